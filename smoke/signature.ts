/** Signatures: read from TF.js model objects, SavedModel meta graphs or TF Serving metadata; turned into feed shapes. */
import type { FeedDtype, Signature, TensorSpec } from './types';

export class SmokeInputError extends Error {
  constructor(
    message: string,
    /** The input (or option) the error is about. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'SmokeInputError';
  }
}

/** TF DataType → tfjs dtype, as tfjs-node maps it for SavedModels (others cannot be fed by tfjs). */
const TF_DTYPES: Record<string, FeedDtype | 'complex64'> = {
  DT_FLOAT: 'float32',
  DT_INT32: 'int32',
  DT_INT64: 'int32',
  DT_UINT8: 'int32',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
  DT_COMPLEX64: 'complex64',
};
const FEEDABLE = new Set<string>(['float32', 'int32', 'bool', 'string']);

export function mapTfDtype(dtype: string | undefined): string {
  if (!dtype) return 'unknown';
  return TF_DTYPES[dtype] ?? dtype;
}

interface RawTensorShape {
  dim?: Array<{ size?: string | number }>;
  unknownRank?: boolean;
  unknown_rank?: boolean;
}

/** A TensorShapeProto in JSON (camelCase from TF.js, snake_case from TF Serving) → shape with -1/null. */
export function shapeFromProto(
  shape: RawTensorShape | undefined,
): number[] | null {
  if (!shape || shape.unknownRank || shape.unknown_rank) return null;
  return (shape.dim ?? []).map(d =>
    d.size === undefined ? 0 : Number(d.size),
  );
}

/** A signature_def map entry (TF.js graph-model `signature`, TF Serving metadata) → Signature. */
export function signatureFromSignatureDef(
  name: string,
  def: { inputs?: Record<string, RawSpec>; outputs?: Record<string, RawSpec> },
  order?: { inputs?: string[]; outputs?: string[] },
): Signature {
  const toSpecs = (
    m: Record<string, RawSpec> | undefined,
    keys?: string[],
  ): TensorSpec[] =>
    (keys ?? Object.keys(m ?? {}).sort())
      .filter(k => m?.[k])
      .map(k => {
        const s = m![k];
        return {
          name: k,
          dtype: mapTfDtype(s.dtype),
          shape: shapeFromProto(s.tensorShape ?? s.tensor_shape),
          ...(s.name ? { tensorName: s.name } : {}),
        };
      });
  return {
    name,
    inputs: toSpecs(def.inputs, order?.inputs),
    outputs: toSpecs(def.outputs, order?.outputs),
  };
}
interface RawSpec {
  name?: string;
  dtype?: string;
  tensorShape?: RawTensorShape;
  tensor_shape?: RawTensorShape;
}

/** tfjs-node meta graph shapes are numbers or Dim messages (`getSize()`), see reference §3.1. */
export function shapeFromNode(
  shape: Array<number | { getSize(): number }> | undefined,
): number[] | null {
  if (shape === undefined) return null;
  return shape.map(d => (typeof d === 'number' ? d : Number(d.getSize())));
}

export interface FeedSpec {
  name: string;
  dtype: FeedDtype;
  shape: number[];
}

/**
 * Turns the signature's inputs into concrete feed shapes: unknown batch (and other unknown) dimensions
 * become 1; unknown rank or a dtype tfjs cannot feed is an error naming the input.
 */
export function feedSpecs(
  signature: Signature,
  explicit: ReadonlySet<string> = new Set(),
): { feeds: FeedSpec[]; notes: string[] } {
  const notes: string[] = [];
  const feeds = signature.inputs.map((input): FeedSpec => {
    if (!FEEDABLE.has(input.dtype)) {
      throw new SmokeInputError(
        `input '${input.name}' has dtype ${input.dtype}, which TensorFlow.js cannot feed ` +
          `(supported: float32, int32, bool, string); re-export the model with a supported input dtype`,
        input.name,
      );
    }
    if (input.shape === null) {
      if (explicit.has(input.name))
        return { name: input.name, dtype: input.dtype as FeedDtype, shape: [] };
      throw new SmokeInputError(
        `input '${input.name}' has an unknown rank in the signature, so no test input can be built; ` +
          `give it an explicit value (inputs.${input.name}) or export the model with a fixed input rank`,
        input.name,
      );
    }
    const shape = input.shape.map((d, i) => {
      if (d >= 0) return d;
      if (i > 0)
        notes.push(`input '${input.name}': unknown dimension ${i} set to 1`);
      return 1;
    });
    return { name: input.name, dtype: input.dtype as FeedDtype, shape };
  });
  return { feeds, notes };
}

/** Does an actual output shape match the signature (batch dimension aside, -1 matches anything)? */
export function shapeMatches(
  expected: number[],
  actual: number[],
  ignoreBatch: boolean,
): boolean {
  if (expected.length !== actual.length) return false;
  return expected.every(
    (d, i) => d < 0 || (ignoreBatch && i === 0) || d === actual[i],
  );
}
