/** buildOpenApiDocument: the OpenAPI 3.0.3 description of TF Serving's REST API for one model signature. */
import type { NormalisedSignature, NormalisedTensor } from './signature';

type Schema = Record<string, unknown>;

function describeShape(shape: number[] | null): string {
  return shape === null
    ? 'unknown rank'
    : `[${shape.map(d => (d === -1 ? '?' : String(d))).join(', ')}]`;
}

/** JSON schema of a tensor value with the given dims (nested arrays, outermost first). */
function valueSchema(t: NormalisedTensor, dims: number[] | null): Schema {
  const scalar: Schema = {
    type: t.json,
    ...(t.format ? { format: t.format } : {}),
  };
  // Binary strings travel as { "b64": "..." }.
  const leaf: Schema =
    t.json === 'string'
      ? {
          oneOf: [
            scalar,
            {
              type: 'object',
              required: ['b64'],
              properties: { b64: { type: 'string', format: 'byte' } },
            },
          ],
        }
      : scalar;
  if (dims === null) {
    return {
      description: `${t.dtype} tensor of unknown rank (nested arrays of ${t.json})`,
    };
  }
  let schema: Schema = leaf;
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i];
    schema =
      d === -1
        ? { type: 'array', items: schema }
        : { type: 'array', minItems: d, maxItems: d, items: schema };
  }
  return schema;
}

function tensorSchema(
  t: NormalisedTensor,
  dims: number[] | null,
  what: string,
): Schema {
  return {
    ...valueSchema(t, dims),
    title: t.name,
    description: `${what} "${t.name}": ${t.dtype}, shape ${describeShape(t.shape)}`,
    'x-tensor': { name: t.name, dtype: t.dtype, shape: t.shape },
  };
}

/** Rows share dim 0 (the batch): one instance has the remaining dims. */
function rowDims(shape: number[] | null): number[] | null {
  return shape === null ? null : shape.slice(1);
}

function namedObject(
  tensors: NormalisedTensor[],
  dims: (t: NormalisedTensor) => number[] | null,
  what: string,
): Schema {
  return {
    type: 'object',
    required: tensors.map(t => t.name),
    properties: Object.fromEntries(
      tensors.map(t => [t.name, tensorSchema(t, dims(t), what)]),
    ),
    additionalProperties: false,
  };
}

/** The zero value of an example tensor, per JSON type (numbers: 0). */
const ZERO: Partial<Record<NormalisedTensor['json'], unknown>> = {
  boolean: false,
  string: '',
};

function zeros(t: NormalisedTensor, dims: number[]): unknown {
  const zero = ZERO[t.json] ?? 0;
  const build = (i: number): unknown =>
    i === dims.length
      ? zero
      : Array.from({ length: dims[i] === -1 ? 1 : dims[i] }, () =>
          build(i + 1),
        );
  return build(0);
}

function exampleColumnar(inputs: NormalisedTensor[]): Schema | undefined {
  const out: Schema = {};
  for (const t of inputs) {
    if (t.shape === null) return undefined;
    const size = t.shape.reduce((n, d) => n * (d === -1 ? 1 : d), 1);
    if (size > 64) return undefined; // keep the document small; the schema says the rest
    out[t.name] = zeros(t, t.shape);
  }
  return out;
}

export interface OpenApiOptions {
  /** Model name as served (`/v1/models/<modelName>`). */
  modelName: string;
  title: string;
  description?: string;
  version?: string;
  /** Base URLs of the REST API (gateway first, then in-cluster). */
  servers: Array<{ url: string; description: string }>;
}

/**
 * OpenAPI 3.0 description of a TF Serving model's REST API, generated from the model's
 * real signature: predict (row `instances` / columnar `inputs`; `predictions` / `outputs`),
 * status and metadata. TF Serving publishes no OpenAPI document of its own.
 */
export function buildOpenApiDocument(
  signature: NormalisedSignature,
  options: OpenApiOptions,
): Record<string, unknown> {
  const { inputs, outputs, key } = signature;
  const base = `/v1/models/${options.modelName}`;
  const single = (list: NormalisedTensor[]) => list.length === 1;

  const rowInstance: Schema = single(inputs)
    ? {
        oneOf: [
          tensorSchema(inputs[0], rowDims(inputs[0].shape), 'Input'),
          namedObject(inputs, t => rowDims(t.shape), 'Input'),
        ],
      }
    : namedObject(inputs, t => rowDims(t.shape), 'Input');
  const columnar: Schema = single(inputs)
    ? {
        oneOf: [
          tensorSchema(inputs[0], inputs[0].shape, 'Input'),
          namedObject(inputs, t => t.shape, 'Input'),
        ],
      }
    : namedObject(inputs, t => t.shape, 'Input');
  const rowPrediction: Schema = single(outputs)
    ? tensorSchema(outputs[0], rowDims(outputs[0].shape), 'Output')
    : namedObject(outputs, t => rowDims(t.shape), 'Output');
  const columnarOutputs: Schema = single(outputs)
    ? tensorSchema(outputs[0], outputs[0].shape, 'Output')
    : namedObject(outputs, t => t.shape, 'Output');
  const signatureName: Schema = {
    type: 'string',
    enum: [key],
    default: key,
    description: 'Signature to run.',
  };

  const example = exampleColumnar(inputs);
  const tfTensor = (t: NormalisedTensor) => ({
    dtype: t.dtype,
    tensor_shape:
      t.shape === null
        ? { dim: [], unknown_rank: true }
        : {
            dim: t.shape.map(d => ({ size: String(d), name: '' })),
            unknown_rank: false,
          },
    name: t.name,
  });

  const errorResponse = (description: string) => ({
    description,
    content: {
      'application/json': { schema: { $ref: '#/components/schemas/Error' } },
    },
  });

  return {
    openapi: '3.0.3',
    info: {
      title: options.title,
      version: options.version ?? '1',
      description:
        options.description ??
        `TensorFlow Serving REST API of model "${options.modelName}" (signature "${key}"), generated from the model's signature.`,
    },
    servers: options.servers,
    paths: {
      [base]: {
        get: {
          operationId: 'getModelStatus',
          summary: 'Model version status',
          responses: {
            '200': {
              description: 'Status of the loaded versions',
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/ModelStatus' },
                },
              },
            },
            '404': errorResponse('Model not found'),
          },
        },
      },
      [`${base}/metadata`]: {
        get: {
          operationId: 'getModelMetadata',
          summary: 'Model metadata (signatures)',
          responses: {
            '200': {
              description: 'Signature definitions',
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/ModelMetadata' },
                  example: {
                    model_spec: {
                      name: options.modelName,
                      signature_name: '',
                      version: '1',
                    },
                    metadata: {
                      signature_def: {
                        signature_def: {
                          [key]: {
                            inputs: Object.fromEntries(
                              inputs.map(t => [t.name, tfTensor(t)]),
                            ),
                            outputs: Object.fromEntries(
                              outputs.map(t => [t.name, tfTensor(t)]),
                            ),
                            method_name: signature.methodName,
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            '404': errorResponse('Model not found'),
          },
        },
      },
      [`${base}:predict`]: {
        post: {
          operationId: 'predict',
          summary: `Run the "${key}" signature`,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/PredictRequest' },
                ...(example
                  ? { example: { signature_name: key, inputs: example } }
                  : {}),
              },
            },
          },
          responses: {
            '200': {
              description: 'Predictions',
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/PredictResponse' },
                },
              },
            },
            '400': errorResponse('Invalid request (shape or dtype mismatch)'),
            '404': errorResponse('Model not found'),
          },
        },
      },
    },
    components: {
      schemas: {
        PredictRequest: {
          description:
            'Row format (`instances`) or columnar format (`inputs`); not both.',
          oneOf: [
            { $ref: '#/components/schemas/PredictRowRequest' },
            { $ref: '#/components/schemas/PredictColumnarRequest' },
          ],
        },
        PredictRowRequest: {
          type: 'object',
          required: ['instances'],
          additionalProperties: false,
          properties: {
            signature_name: signatureName,
            instances: {
              type: 'array',
              description: 'One entry per example (inputs share dim 0).',
              items: rowInstance,
            },
          },
        },
        PredictColumnarRequest: {
          type: 'object',
          required: ['inputs'],
          additionalProperties: false,
          properties: { signature_name: signatureName, inputs: columnar },
        },
        PredictResponse: {
          oneOf: [
            {
              type: 'object',
              required: ['predictions'],
              description: 'Answer to a row-format request.',
              properties: {
                predictions: { type: 'array', items: rowPrediction },
              },
            },
            {
              type: 'object',
              required: ['outputs'],
              description: 'Answer to a columnar request.',
              properties: { outputs: columnarOutputs },
            },
          ],
        },
        ModelStatus: {
          type: 'object',
          properties: {
            model_version_status: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  version: { type: 'string', description: 'int64 as a string' },
                  state: {
                    type: 'string',
                    enum: [
                      'UNKNOWN',
                      'START',
                      'LOADING',
                      'AVAILABLE',
                      'UNLOADING',
                      'END',
                    ],
                  },
                  status: {
                    type: 'object',
                    properties: {
                      error_code: { type: 'string' },
                      error_message: { type: 'string' },
                    },
                  },
                },
              },
            },
          },
        },
        ModelMetadata: {
          type: 'object',
          properties: {
            model_spec: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                signature_name: { type: 'string' },
                version: { type: 'string' },
              },
            },
            metadata: {
              type: 'object',
              properties: {
                signature_def: {
                  type: 'object',
                  properties: {
                    signature_def: {
                      type: 'object',
                      additionalProperties: { type: 'object' },
                    },
                  },
                },
              },
            },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'string' } },
        },
      },
    },
  };
}
