import { InputError } from '@backstage/errors';

/** One tensor of a model signature, as the smoke report (smoke/types.ts) describes it. */
export interface TensorSpec {
  /** Input/output key in the signature (the name used in REST requests), e.g. `x`. */
  name: string;
  /** tfjs (`float32`) or TensorFlow (`DT_FLOAT`) dtype. */
  dtype: string;
  /** Dimensions; -1 or null for an unknown size (usually the batch). null/absent = unknown rank. */
  shape?: Array<number | null> | null;
  /** Underlying graph tensor name (ignored here). */
  tensorName?: string;
}

/** The model's serving signature, from the smoke report. */
export interface ModelSignature {
  /** Signature key; TF Serving's default is `serving_default`. */
  name?: string;
  /** `tensorflow/serving/predict` unless said otherwise. */
  methodName?: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

type JsonType = 'number' | 'integer' | 'boolean' | 'string';

/** dtype -> (TF dtype, JSON type), per TF Serving's REST JSON mapping. Others are unsupported. */
const DTYPES: Record<string, { tf: string; json: JsonType; format?: string }> = {
  float16: { tf: 'DT_HALF', json: 'number', format: 'float' },
  half: { tf: 'DT_HALF', json: 'number', format: 'float' },
  bfloat16: { tf: 'DT_BFLOAT16', json: 'number', format: 'float' },
  float32: { tf: 'DT_FLOAT', json: 'number', format: 'float' },
  float: { tf: 'DT_FLOAT', json: 'number', format: 'float' },
  float64: { tf: 'DT_DOUBLE', json: 'number', format: 'double' },
  double: { tf: 'DT_DOUBLE', json: 'number', format: 'double' },
  int8: { tf: 'DT_INT8', json: 'integer', format: 'int32' },
  int16: { tf: 'DT_INT16', json: 'integer', format: 'int32' },
  int32: { tf: 'DT_INT32', json: 'integer', format: 'int32' },
  int64: { tf: 'DT_INT64', json: 'integer', format: 'int64' },
  uint8: { tf: 'DT_UINT8', json: 'integer', format: 'int32' },
  uint16: { tf: 'DT_UINT16', json: 'integer', format: 'int32' },
  uint32: { tf: 'DT_UINT32', json: 'integer', format: 'int64' },
  uint64: { tf: 'DT_UINT64', json: 'integer', format: 'int64' },
  bool: { tf: 'DT_BOOL', json: 'boolean' },
  string: { tf: 'DT_STRING', json: 'string' },
};

export interface NormalisedTensor {
  name: string;
  /** TensorFlow dtype, e.g. `DT_FLOAT`. */
  dtype: string;
  json: JsonType;
  format?: string;
  /** null = unknown rank; -1 = unknown dimension. */
  shape: number[] | null;
}

function normaliseDtype(field: string, dtype: unknown): { tf: string; json: JsonType; format?: string } {
  if (typeof dtype !== 'string' || dtype === '') throw new InputError(`${field} is required: give the tensor dtype, e.g. "float32"`);
  let key = dtype.trim().toLowerCase();
  if (key.startsWith('dt_')) key = key.slice(3);
  const found = DTYPES[key];
  if (!found) {
    throw new InputError(
      `${field} "${dtype.slice(0, 40)}" has no JSON form in TF Serving's REST API; supported: ${Object.keys(DTYPES).join(', ')}`,
    );
  }
  return found;
}

function normaliseTensor(field: string, t: TensorSpec | undefined): NormalisedTensor {
  if (!t || typeof t !== 'object') throw new InputError(`${field} must be an object { name, dtype, shape }`);
  if (typeof t.name !== 'string' || !/^[A-Za-z0-9_.\-/:]{1,200}$/.test(t.name)) {
    throw new InputError(`${field}.name "${String(t.name).slice(0, 80)}" must be the signature key of the tensor (letters, digits, _ . - / :)`);
  }
  const d = normaliseDtype(`${field}.dtype`, t.dtype);
  let shape: number[] | null = null;
  if (Array.isArray(t.shape)) {
    shape = t.shape.map((dim, i) => {
      if (dim === null || dim === -1) return -1;
      if (!Number.isInteger(dim) || (dim as number) < 0) {
        throw new InputError(`${field}.shape[${i}] must be a non-negative integer, or -1/null for an unknown size`);
      }
      return dim as number;
    });
  } else if (t.shape !== undefined && t.shape !== null) {
    throw new InputError(`${field}.shape must be an array of dimensions, or null for an unknown rank`);
  }
  return { name: t.name, dtype: d.tf, json: d.json, format: d.format, shape };
}

export interface NormalisedSignature {
  key: string;
  methodName: string;
  inputs: NormalisedTensor[];
  outputs: NormalisedTensor[];
}

/** Checks and normalises a signature; errors name the field (`model.signature.inputs[0].dtype`). */
export function normaliseSignature(signature: ModelSignature, field = 'model.signature'): NormalisedSignature {
  if (!signature || typeof signature !== 'object') throw new InputError(`${field} must be an object { inputs, outputs }`);
  const side = (which: 'inputs' | 'outputs') => {
    const list = signature[which];
    if (!Array.isArray(list) || list.length === 0) {
      throw new InputError(`${field}.${which} must list at least one tensor { name, dtype, shape }`);
    }
    const out = list.map((t, i) => normaliseTensor(`${field}.${which}[${i}]`, t));
    const seen = new Set<string>();
    for (const t of out) {
      if (seen.has(t.name)) throw new InputError(`${field}.${which} names "${t.name}" twice; tensor names must be unique`);
      seen.add(t.name);
    }
    return out;
  };
  const key = signature.name ?? 'serving_default';
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.\-]{1,100}$/.test(key)) {
    throw new InputError(`${field}.name must be a signature name such as "serving_default"`);
  }
  return {
    key,
    methodName: signature.methodName ?? 'tensorflow/serving/predict',
    inputs: side('inputs'),
    outputs: side('outputs'),
  };
}

type Schema = Record<string, unknown>;

function describeShape(shape: number[] | null): string {
  return shape === null ? 'unknown rank' : `[${shape.map(d => (d === -1 ? '?' : String(d))).join(', ')}]`;
}

/** JSON schema of a tensor value with the given dims (nested arrays, outermost first). */
function valueSchema(t: NormalisedTensor, dims: number[] | null): Schema {
  const scalar: Schema = { type: t.json, ...(t.format ? { format: t.format } : {}) };
  // Binary strings travel as { "b64": "..." }.
  const leaf: Schema =
    t.json === 'string'
      ? { oneOf: [scalar, { type: 'object', required: ['b64'], properties: { b64: { type: 'string', format: 'byte' } } }] }
      : scalar;
  if (dims === null) {
    return { description: `${t.dtype} tensor of unknown rank (nested arrays of ${t.json})` };
  }
  let schema: Schema = leaf;
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i];
    schema = d === -1 ? { type: 'array', items: schema } : { type: 'array', minItems: d, maxItems: d, items: schema };
  }
  return schema;
}

function tensorSchema(t: NormalisedTensor, dims: number[] | null, what: string): Schema {
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

function namedObject(tensors: NormalisedTensor[], dims: (t: NormalisedTensor) => number[] | null, what: string): Schema {
  return {
    type: 'object',
    required: tensors.map(t => t.name),
    properties: Object.fromEntries(tensors.map(t => [t.name, tensorSchema(t, dims(t), what)])),
    additionalProperties: false,
  };
}

function zeros(t: NormalisedTensor, dims: number[]): unknown {
  const zero = t.json === 'boolean' ? false : t.json === 'string' ? '' : 0;
  const build = (i: number): unknown => (i === dims.length ? zero : Array.from({ length: dims[i] === -1 ? 1 : dims[i] }, () => build(i + 1)));
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
export function buildOpenApiDocument(signature: NormalisedSignature, options: OpenApiOptions): Record<string, unknown> {
  const { inputs, outputs, key } = signature;
  const base = `/v1/models/${options.modelName}`;
  const single = (list: NormalisedTensor[]) => list.length === 1;

  const rowInstance: Schema = single(inputs)
    ? { oneOf: [tensorSchema(inputs[0], rowDims(inputs[0].shape), 'Input'), namedObject(inputs, t => rowDims(t.shape), 'Input')] }
    : namedObject(inputs, t => rowDims(t.shape), 'Input');
  const columnar: Schema = single(inputs)
    ? { oneOf: [tensorSchema(inputs[0], inputs[0].shape, 'Input'), namedObject(inputs, t => t.shape, 'Input')] }
    : namedObject(inputs, t => t.shape, 'Input');
  const rowPrediction: Schema = single(outputs)
    ? tensorSchema(outputs[0], rowDims(outputs[0].shape), 'Output')
    : namedObject(outputs, t => rowDims(t.shape), 'Output');
  const columnarOutputs: Schema = single(outputs)
    ? tensorSchema(outputs[0], outputs[0].shape, 'Output')
    : namedObject(outputs, t => t.shape, 'Output');
  const signatureName: Schema = { type: 'string', enum: [key], default: key, description: 'Signature to run.' };

  const example = exampleColumnar(inputs);
  const tfTensor = (t: NormalisedTensor) => ({
    dtype: t.dtype,
    tensor_shape:
      t.shape === null
        ? { dim: [], unknown_rank: true }
        : { dim: t.shape.map(d => ({ size: String(d), name: '' })), unknown_rank: false },
    name: t.name,
  });

  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
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
            '200': { description: 'Status of the loaded versions', content: { 'application/json': { schema: { $ref: '#/components/schemas/ModelStatus' } } } },
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
                    model_spec: { name: options.modelName, signature_name: '', version: '1' },
                    metadata: {
                      signature_def: {
                        signature_def: {
                          [key]: {
                            inputs: Object.fromEntries(inputs.map(t => [t.name, tfTensor(t)])),
                            outputs: Object.fromEntries(outputs.map(t => [t.name, tfTensor(t)])),
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
                ...(example ? { example: { signature_name: key, inputs: example } } : {}),
              },
            },
          },
          responses: {
            '200': { description: 'Predictions', content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictResponse' } } } },
            '400': errorResponse('Invalid request (shape or dtype mismatch)'),
            '404': errorResponse('Model not found'),
          },
        },
      },
    },
    components: {
      schemas: {
        PredictRequest: {
          description: 'Row format (`instances`) or columnar format (`inputs`); not both.',
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
            instances: { type: 'array', description: 'One entry per example (inputs share dim 0).', items: rowInstance },
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
              properties: { predictions: { type: 'array', items: rowPrediction } },
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
                  state: { type: 'string', enum: ['UNKNOWN', 'START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END'] },
                  status: {
                    type: 'object',
                    properties: { error_code: { type: 'string' }, error_message: { type: 'string' } },
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
              properties: { name: { type: 'string' }, signature_name: { type: 'string' }, version: { type: 'string' } },
            },
            metadata: {
              type: 'object',
              properties: {
                signature_def: {
                  type: 'object',
                  properties: { signature_def: { type: 'object', additionalProperties: { type: 'object' } } },
                },
              },
            },
          },
        },
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
      },
    },
  };
}
