/** Load and save TF.js models from and to disk without `file://` (which only tfjs-node registers). */
import fs from 'node:fs';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import type { Tf } from './backend';

export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology?: unknown;
  weightsManifest?: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }>;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: unknown;
  trainingConfig?: unknown;
  [key: string]: unknown;
}

export function readModelJson(dir: string): ModelJson {
  const file = path.join(dir, 'model.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Weight shard paths must stay inside the model folder. */
export function shardPath(dir: string, p: string): string {
  const resolved = path.resolve(dir, p);
  const rel = path.relative(dir, resolved);
  if (!p || path.isAbsolute(p) || rel.startsWith('..') || path.isAbsolute(rel) || /^[a-z][a-z0-9+.-]*:/i.test(p)) {
    throw new Error(`weight shard path '${p}' in model.json points outside the model folder`);
  }
  return resolved;
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** An IOHandler reading model.json and its shards from `dir`. */
export function fsLoadHandler(tf: Tf, dir: string): io.IOHandler {
  return {
    load: async () => {
      const modelJson = readModelJson(dir);
      return tf.io.getModelArtifactsForJSON(modelJson as io.ModelJSON, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const p of group.paths) buffers.push(toArrayBuffer(await fs.promises.readFile(shardPath(dir, p))));
        }
        return [tf.io.getWeightSpecs(manifest), buffers];
      });
    },
  };
}

/** An IOHandler writing model.json + weights.bin into `dir` (created if needed). */
export function fsSaveHandler(tf: Tf, dir: string): io.IOHandler {
  return tf.io.withSaveHandler(async (a) => {
    fs.mkdirSync(dir, { recursive: true });
    const weights = a.weightData ? new tf.io.CompositeArrayBuffer(a.weightData).slice() : new ArrayBuffer(0);
    const modelJson: ModelJson = {
      modelTopology: a.modelTopology,
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy ?? null,
      weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
    };
    if (a.signature) modelJson.signature = a.signature;
    if (a.userDefinedMetadata) modelJson.userDefinedMetadata = a.userDefinedMetadata;
    if (a.trainingConfig) modelJson.trainingConfig = a.trainingConfig;
    if (a.modelInitializer) modelJson.modelInitializer = a.modelInitializer;
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(weights));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        weightDataBytes: weights.byteLength,
      },
    };
  });
}
