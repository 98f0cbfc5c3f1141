/** Test inputs: synthesised per dtype from a seeded generator, or given explicitly by the caller. */
import { SmokeInputError, type FeedSpec } from './signature';
import type { ExplicitInputs, FeedDtype } from './types';

export interface InputData {
  name: string;
  dtype: FeedDtype;
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array | string[];
  source: 'synthesised' | 'explicit';
}

/** mulberry32: small, fast, reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++)
    h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export interface SynthOptions {
  /** Integer inputs are drawn from [0, intMax): small, so valid for any embedding / category index. Default 2. */
  intMax?: number;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Values for one input, reproducible for (seed, input name): float32 uniform [0,1), int32 [0,intMax), bool, string. */
export function synthesise(
  spec: FeedSpec,
  seed: number,
  options: SynthOptions = {},
): InputData {
  const rand = seededRandom(seed ^ hash(spec.name));
  const n = size(spec.shape);
  const intMax = options.intMax ?? 2;
  let values: InputData['values'];
  switch (spec.dtype) {
    case 'float32':
      values = Float32Array.from({ length: n }, () => rand());
      break;
    case 'int32':
      values = Int32Array.from({ length: n }, () =>
        Math.floor(rand() * intMax),
      );
      break;
    case 'bool':
      values = Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1));
      break;
    case 'string':
      values = Array.from(
        { length: n },
        () => `smoke-${Math.floor(rand() * 1000)}`,
      );
      break;
    default:
      throw new SmokeInputError(
        `input '${spec.name}' has dtype ${String(spec.dtype)}, which cannot be synthesised`,
        `inputs.${spec.name}`,
      );
  }
  return {
    name: spec.name,
    dtype: spec.dtype,
    shape: spec.shape,
    values,
    source: 'synthesised',
  };
}

function inferShape(v: unknown): number[] {
  const shape: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

/** Checks an explicit value against the signature and turns it into typed data. */
export function explicitInput(
  spec: FeedSpec,
  given: { values: unknown; shape?: number[] },
  signatureShape: number[] | null,
): InputData {
  const field = `inputs.${spec.name}`;
  const fail = (why: string): never => {
    throw new SmokeInputError(`explicit input '${spec.name}' ${why}`, field);
  };
  if (
    !Array.isArray(given.values) &&
    typeof given.values !== 'number' &&
    typeof given.values !== 'boolean' &&
    typeof given.values !== 'string'
  ) {
    fail('must give `values` as a (nested) array');
  }
  const flat = Array.isArray(given.values)
    ? (given.values as unknown[]).flat(Infinity)
    : [given.values];
  let shape = given.shape ?? inferShape(given.values);
  if (given.shape && given.shape.some(d => !Number.isInteger(d) || d < 0))
    fail(`has an invalid shape [${given.shape}]`);
  // A flat list for a model that expects [batch, ...]: take the signature's shape when the sizes agree.
  if (
    !given.shape &&
    signatureShape &&
    shape.length === 1 &&
    signatureShape.length > 1 &&
    flat.length === size(spec.shape)
  )
    shape = spec.shape;
  if (size(shape) !== flat.length)
    fail(`has ${flat.length} values, which does not fill shape [${shape}]`);
  if (
    signatureShape &&
    (shape.length !== signatureShape.length ||
      !shape.every(
        (d, i) => i === 0 || signatureShape[i] < 0 || signatureShape[i] === d,
      ))
  ) {
    fail(
      `has shape [${shape}] but the signature expects [${signatureShape.map(d => (d < 0 ? '?' : d))}] (batch dimension free)`,
    );
  }
  let values: InputData['values'];
  switch (spec.dtype) {
    case 'float32':
      if (!flat.every(x => typeof x === 'number'))
        fail('must hold numbers (dtype float32)');
      values = Float32Array.from(flat as number[]);
      break;
    case 'int32':
      if (!flat.every(x => Number.isInteger(x)))
        fail('must hold integers (dtype int32)');
      values = Int32Array.from(flat as number[]);
      break;
    case 'bool':
      if (!flat.every(x => typeof x === 'boolean' || x === 0 || x === 1))
        fail('must hold booleans (dtype bool)');
      values = Uint8Array.from(flat.map(x => (x ? 1 : 0)));
      break;
    case 'string':
      if (!flat.every(x => typeof x === 'string'))
        fail('must hold strings (dtype string)');
      values = flat as string[];
      break;
    default:
      return fail(`has dtype ${String(spec.dtype)}, which cannot be fed`);
  }
  return {
    name: spec.name,
    dtype: spec.dtype,
    shape,
    values,
    source: 'explicit',
  };
}

/** All inputs for a run: explicit where given, synthesised otherwise. Unknown names are an error. */
export function buildInputs(
  feeds: FeedSpec[],
  signatureShapes: Record<string, number[] | null>,
  seed: number,
  explicit: ExplicitInputs = {},
  options: SynthOptions = {},
): InputData[] {
  const known = new Set(feeds.map(f => f.name));
  for (const name of Object.keys(explicit)) {
    if (!known.has(name)) {
      throw new SmokeInputError(
        `explicit input '${name}' is not an input of the model (inputs: ${[...known].join(', ')})`,
        `inputs.${name}`,
      );
    }
  }
  const given = feeds
    .filter(f => explicit[f.name])
    .map(f => explicitInput(f, explicit[f.name], signatureShapes[f.name]));
  // All inputs share the batch dimension: synthesised inputs with an unknown batch follow the explicit ones.
  const batched = given.filter(d => (signatureShapes[d.name]?.[0] ?? 0) < 0);
  const batch = batched[0]?.shape[0];
  const odd = batched.find(d => d.shape[0] !== batch);
  if (odd) {
    throw new SmokeInputError(
      `explicit inputs disagree on the batch size: '${batched[0].name}' has ${batch}, '${odd.name}' has ${odd.shape[0]}`,
      `inputs.${odd.name}`,
    );
  }
  return feeds.map(f => {
    const g = given.find(d => d.name === f.name);
    if (g) return g;
    const shape =
      batch !== undefined && (signatureShapes[f.name]?.[0] ?? 0) < 0
        ? [batch, ...f.shape.slice(1)]
        : f.shape;
    return synthesise({ ...f, shape }, seed, options);
  });
}
