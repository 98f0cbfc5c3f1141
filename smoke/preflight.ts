/**
 * Preflight: what a model asks for, checked against the limits from model.json and file sizes alone,
 * before any weight or tensor is allocated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatBytes, SmokeLimitError, type SmokeLimits } from './limits';
import {
  fileSizeInside,
  isInside,
  ModelRefusedError,
  readInsideSync,
  resolveWeightPath,
  weightPathSegments,
} from './modelfs';
import type { ExplicitInputs } from './types';

const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};
/** What a synthesised string element costs, roughly (for the input budget only). */
const STRING_ELEMENT_BYTES = 16;

export interface ManifestGroup {
  paths: string[];
  /** Bytes the weights of this group take in the shards; null when it holds string weights (variable size). */
  declaredBytes: number | null;
  /** Lower bound of the bytes (all weights but the string ones). */
  minBytes: number;
}

export interface ManifestSummary {
  groups: ManifestGroup[];
  shardCount: number;
  declaredBytes: number;
}

const elements = (shape: unknown, what: string): number => {
  if (!Array.isArray(shape))
    throw new ModelRefusedError(`${what} has no shape in model.json`);
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      throw new ModelRefusedError(
        `${what} has an invalid dimension ${JSON.stringify(d)} in model.json`,
      );
    n *= d;
  }
  return n;
};

/** Shard count and declared weight bytes from model.json's weightsManifest, against the limits. */
export function checkManifest(
  modelJson: unknown,
  limits: Pick<SmokeLimits, 'maxShards' | 'maxWeightBytes'>,
): ManifestSummary {
  const manifest = (modelJson as { weightsManifest?: unknown })
    ?.weightsManifest;
  if (manifest === undefined)
    return { groups: [], shardCount: 0, declaredBytes: 0 };
  if (!Array.isArray(manifest))
    throw new ModelRefusedError('model.json: weightsManifest is not a list');
  const shardCount = manifest.reduce(
    (n: number, g: { paths?: unknown }) =>
      n + (Array.isArray(g?.paths) ? g.paths.length : 0),
    0,
  );
  if (shardCount > limits.maxShards) {
    throw new SmokeLimitError(
      'maxShards',
      `model.json lists ${shardCount} weight shards`,
      limits.maxShards,
    );
  }
  const groups = manifest.map(
    (g: { paths?: unknown; weights?: unknown }, gi: number): ManifestGroup => {
      if (!Array.isArray(g?.paths) || !Array.isArray(g?.weights))
        throw new ModelRefusedError(
          `model.json: weightsManifest[${gi}] needs "paths" and "weights" lists`,
        );
      const paths = g.paths.map(p => {
        weightPathSegments(p); // throws unless p is a plain relative file name inside the model folder
        return p as string;
      });
      let bytes = 0;
      let strings = false;
      for (const w of g.weights as Array<{
        name?: unknown;
        shape?: unknown;
        dtype?: unknown;
        quantization?: { dtype?: unknown };
      }>) {
        const what = `weight ${JSON.stringify(String(w?.name).slice(0, 80))}`;
        if (w?.dtype === 'string') {
          strings = true;
          continue;
        }
        const dtype = String(w?.quantization?.dtype ?? w?.dtype);
        const size = DTYPE_BYTES[dtype];
        if (size === undefined)
          throw new ModelRefusedError(
            `${what} has dtype ${JSON.stringify(dtype)}, which TensorFlow.js cannot load`,
          );
        bytes += elements(w.shape, what) * size;
      }
      return { paths, declaredBytes: strings ? null : bytes, minBytes: bytes };
    },
  );
  const declaredBytes = groups.reduce((n, g) => n + g.minBytes, 0);
  if (declaredBytes > limits.maxWeightBytes) {
    throw new SmokeLimitError(
      'maxWeightBytes',
      `model.json declares ${formatBytes(declaredBytes)} of weights`,
      limits.maxWeightBytes,
    );
  }
  return { groups, shardCount, declaredBytes };
}

/** The bytes a group's shards hold must be what the manifest declares: longer or shorter is refused. */
export function groupBytesProblem(
  group: ManifestGroup,
  index: number,
  actual: number,
  partial = false,
): ModelRefusedError | undefined {
  const ok =
    group.declaredBytes === null
      ? actual >= group.minBytes
      : actual === group.declaredBytes;
  if (ok) return undefined;
  return new ModelRefusedError(
    `the weight files of weightsManifest[${index}] (${group.paths.slice(0, 3).join(', ')}${group.paths.length > 3 ? ', …' : ''}) hold ${partial ? 'at least ' : ''}${formatBytes(actual)} ` +
      `but model.json declares ${group.declaredBytes === null ? 'at least ' : ''}${formatBytes(group.minBytes)}; the files do not belong to this model.json (re-export or re-upload the model)`,
  );
}

export function checkGroupBytes(
  group: ManifestGroup,
  index: number,
  actual: number,
): void {
  const problem = groupBytesProblem(group, index, actual);
  if (problem) throw problem;
}

export interface InputSize {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
}

const TF_DTYPES: Record<string, string> = {
  DT_FLOAT: 'float32',
  DT_INT32: 'int32',
  DT_INT64: 'int32',
  DT_UINT8: 'int32',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
};

export function inputBytes(dtype: string, shape: number[]): number {
  const per =
    dtype === 'string' ? STRING_ELEMENT_BYTES : (DTYPE_BYTES[dtype] ?? 4);
  return shape.reduce((a, b) => a * b, 1) * per;
}

const dimsOf = (raw: unknown): number[] | null => {
  if (!Array.isArray(raw)) return null;
  return raw.map(d => {
    const n =
      d === null || d === undefined
        ? -1
        : Number(
            typeof d === 'object' ? ((d as { size?: unknown }).size ?? -1) : d,
          );
    return Number.isFinite(n) ? n : -1;
  });
};

/** A Keras model config's layers: the config itself (Sequential of old) or its `layers`. */
function layersOf(config: any): Array<Record<string, any>> {
  if (Array.isArray(config)) return config;
  return Array.isArray(config?.layers) ? config.layers : [];
}

/** Input tensors declared in model.json (graph signature or Placeholders; layers InputLayers), with unknown dims as 1. */
export function declaredInputs(
  modelJson: unknown,
  explicit: ExplicitInputs = {},
): InputSize[] {
  const json = modelJson as Record<string, any>;
  const found: Array<{ name: string; dtype: string; shape: number[] | null }> =
    [];
  const topo = json?.modelTopology;
  const sig =
    json?.signature?.inputs ?? json?.userDefinedMetadata?.signature?.inputs;
  if (sig && typeof sig === 'object') {
    for (const [name, s] of Object.entries(sig as Record<string, any>)) {
      const shape = s?.tensorShape ?? s?.tensor_shape;
      found.push({
        name,
        dtype: TF_DTYPES[s?.dtype] ?? 'float32',
        shape:
          shape?.unknownRank || shape?.unknown_rank
            ? null
            : dimsOf(shape?.dim ?? []),
      });
    }
  } else if (Array.isArray(topo?.node)) {
    for (const n of topo.node as Array<Record<string, any>>) {
      if (n?.op !== 'Placeholder') continue;
      found.push({
        name: String(n.name),
        dtype: TF_DTYPES[n.attr?.dtype?.type] ?? 'float32',
        shape: dimsOf(n.attr?.shape?.shape?.dim),
      });
    }
  } else if (topo && typeof topo === 'object') {
    const config = (topo.model_config ?? topo)?.config;
    const layers = layersOf(config);
    const inputLayers = layers.filter(l => l?.class_name === 'InputLayer');
    const withShape = inputLayers.length ? inputLayers : layers.slice(0, 1);
    for (const l of withShape) {
      const c = l?.config ?? {};
      // A Sequential's implicit input is named after its first layer.
      const name = inputLayers.length
        ? String(c.name ?? 'input')
        : `${String(c.name ?? 'input')}_input`;
      found.push({
        name,
        dtype: String(c.dtype ?? 'float32'),
        shape: dimsOf(c.batch_input_shape ?? c.batch_shape),
      });
    }
  }
  return found.map(({ name, dtype, shape }) => {
    const given = explicit[name];
    const flat =
      given && Array.isArray(given.values)
        ? (given.values as unknown[]).flat(Infinity).length
        : undefined;
    const concrete =
      given?.shape ??
      (flat !== undefined ? [flat] : (shape ?? []).map(d => (d < 0 ? 1 : d)));
    return { name, dtype, shape: concrete, bytes: inputBytes(dtype, concrete) };
  });
}

/** Refuses inputs whose tensors together exceed maxInputBytes, naming the largest. */
export function checkInputBytes(
  inputs: InputSize[],
  maxInputBytes: number,
): void {
  const total = inputs.reduce((n, i) => n + i.bytes, 0);
  if (total > maxInputBytes) {
    const big = [...inputs].sort((a, b) => b.bytes - a.bytes)[0];
    throw new SmokeLimitError(
      'maxInputBytes',
      `the model's inputs need ${formatBytes(total)} per inference (input '${big.name}' ${big.dtype} [${big.shape.join(', ')}] alone ${formatBytes(big.bytes)})`,
      maxInputBytes,
    );
  }
}

export interface PreflightOptions {
  limits: SmokeLimits;
  /** The model folder must be inside this folder, links resolved (the workspace). */
  within?: string;
  inputs?: ExplicitInputs;
}

export interface PreflightResult {
  weightBytes: number;
  shardCount: number;
  inputs: InputSize[];
}

/** Checks a model folder on disk: model.json size, manifest, shard files (inside, sizes as declared) and input bytes. */
export function preflightLocal(
  dir: string,
  options: PreflightOptions,
): PreflightResult {
  const { limits } = options;
  if (!fs.existsSync(dir)) return { weightBytes: 0, shardCount: 0, inputs: [] }; // detectFormat reports it
  if (
    options.within &&
    !isInside(fs.realpathSync(options.within), fs.realpathSync(dir))
  ) {
    throw new ModelRefusedError(
      'the model folder is a link to a folder outside the workspace',
    );
  }
  const jsonFile = path.join(dir, 'model.json');
  if (!fs.lstatSync(jsonFile, { throwIfNoEntry: false })) {
    return fs.existsSync(path.join(dir, 'saved_model.pb'))
      ? preflightSavedModel(dir, limits)
      : { weightBytes: 0, shardCount: 0, inputs: [] };
  }
  const raw = readInsideSync(
    dir,
    jsonFile,
    'model.json',
    limits.maxModelJsonBytes,
    size =>
      new SmokeLimitError(
        'maxModelJsonBytes',
        `model.json is ${formatBytes(size)}`,
        limits.maxModelJsonBytes,
      ),
  );
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new ModelRefusedError(
      `model.json is not valid JSON: ${(e as Error).message}`,
    );
  }
  const manifest = checkManifest(json, limits);
  const inputs = declaredInputs(json, options.inputs);
  checkInputBytes(inputs, limits.maxInputBytes);
  let weightBytes = 0;
  manifest.groups.forEach((g, i) => {
    let actual = 0;
    for (const p of g.paths)
      actual += fileSizeInside(
        dir,
        resolveWeightPath(dir, p),
        `weight file ${JSON.stringify(p)}`,
      );
    checkGroupBytes(g, i, actual);
    weightBytes += actual;
  });
  return { weightBytes, shardCount: manifest.shardCount, inputs };
}

/** A SavedModel: only its size is known without TensorFlow; links out of the folder are refused. */
function preflightSavedModel(
  dir: string,
  limits: SmokeLimits,
): PreflightResult {
  let total = 0;
  let files = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        total += fileSizeInside(
          dir,
          p,
          `file ${JSON.stringify(path.relative(dir, p))}`,
        );
        files++;
        if (total > limits.maxWeightBytes)
          throw new SmokeLimitError(
            'maxWeightBytes',
            `the SavedModel holds more than ${formatBytes(total)}`,
            limits.maxWeightBytes,
          );
        if (files > limits.maxShards + 16)
          throw new SmokeLimitError(
            'maxShards',
            `the SavedModel holds more than ${files} files`,
            limits.maxShards,
          );
      }
    }
  };
  walk(dir);
  return { weightBytes: total, shardCount: files, inputs: [] };
}
