/** The model's serving signature as the smoke report gives it, checked and normalised (dtypes, shapes, names). */
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
const DTYPES: Record<string, { tf: string; json: JsonType; format?: string }> =
  {
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

function normaliseDtype(
  field: string,
  dtype: unknown,
): { tf: string; json: JsonType; format?: string } {
  if (typeof dtype !== 'string' || dtype === '')
    throw new InputError(
      `${field} is required: give the tensor dtype, e.g. "float32"`,
    );
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

function normaliseTensor(
  field: string,
  t: TensorSpec | undefined,
): NormalisedTensor {
  if (!t || typeof t !== 'object')
    throw new InputError(`${field} must be an object { name, dtype, shape }`);
  if (
    typeof t.name !== 'string' ||
    !/^[A-Za-z0-9_.\-/:]{1,200}$/.test(t.name)
  ) {
    throw new InputError(
      `${field}.name "${String(t.name).slice(0, 80)}" must be the signature key of the tensor (letters, digits, _ . - / :)`,
    );
  }
  const d = normaliseDtype(`${field}.dtype`, t.dtype);
  let shape: number[] | null = null;
  if (Array.isArray(t.shape)) {
    shape = t.shape.map((dim, i) => {
      if (dim === null || dim === -1) return -1;
      if (!Number.isInteger(dim) || (dim as number) < 0) {
        throw new InputError(
          `${field}.shape[${i}] must be a non-negative integer, or -1/null for an unknown size`,
        );
      }
      return dim as number;
    });
  } else if (t.shape !== undefined && t.shape !== null) {
    throw new InputError(
      `${field}.shape must be an array of dimensions, or null for an unknown rank`,
    );
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
export function normaliseSignature(
  signature: ModelSignature,
  field = 'model.signature',
): NormalisedSignature {
  if (!signature || typeof signature !== 'object')
    throw new InputError(`${field} must be an object { inputs, outputs }`);
  const side = (which: 'inputs' | 'outputs') => {
    const list = signature[which];
    if (!Array.isArray(list) || list.length === 0) {
      throw new InputError(
        `${field}.${which} must list at least one tensor { name, dtype, shape }`,
      );
    }
    const out = list.map((t, i) =>
      normaliseTensor(`${field}.${which}[${i}]`, t),
    );
    const seen = new Set<string>();
    for (const t of out) {
      if (seen.has(t.name))
        throw new InputError(
          `${field}.${which} names "${t.name}" twice; tensor names must be unique`,
        );
      seen.add(t.name);
    }
    return out;
  };
  const key = signature.name ?? 'serving_default';
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.\-]{1,100}$/.test(key)) {
    throw new InputError(
      `${field}.name must be a signature name such as "serving_default"`,
    );
  }
  return {
    key,
    methodName: signature.methodName ?? 'tensorflow/serving/predict',
    inputs: side('inputs'),
    outputs: side('outputs'),
  };
}
