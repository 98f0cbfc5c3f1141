/** Load and save TF.js models from and to disk without `file://` (which only tfjs-node registers). */
import fs from 'node:fs';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import type { Tf } from './backend';
import {
  DEFAULT_LIMITS,
  formatBytes,
  SmokeLimitError,
  type SmokeLimits,
} from './limits';
import { checkGroupBytes, checkManifest, groupBytesProblem } from './preflight';
import { readInside, readInsideSync, resolveWeightPath } from './modelfs';

export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology?: unknown;
  weightsManifest?: Array<{
    paths: string[];
    weights: io.WeightsManifestEntry[];
  }>;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: unknown;
  trainingConfig?: unknown;
  [key: string]: unknown;
}

type ReadLimits = Pick<
  SmokeLimits,
  'maxModelJsonBytes' | 'maxWeightBytes' | 'maxShards'
>;

/** model.json of `dir`: a regular file inside it, at most maxModelJsonBytes. */
export function readModelJson(
  dir: string,
  limits: ReadLimits = DEFAULT_LIMITS,
): ModelJson {
  const file = path.join(dir, 'model.json');
  let text: string;
  try {
    text = readInsideSync(
      dir,
      file,
      'model.json',
      limits.maxModelJsonBytes,
      size =>
        new SmokeLimitError(
          'maxModelJsonBytes',
          `model.json is ${formatBytes(size)}`,
          limits.maxModelJsonBytes,
        ),
    ).toString('utf8');
  } catch (e) {
    if (
      e instanceof SmokeLimitError ||
      (e as Error).name === 'ModelRefusedError'
    )
      throw e;
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as ModelJson;
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Weight shard paths must stay inside the model folder (URL-decoded and normalised first). */
export function shardPath(dir: string, p: string): string {
  return resolveWeightPath(dir, p);
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(
    b.byteOffset,
    b.byteOffset + b.byteLength,
  ) as ArrayBuffer;
}

/**
 * An IOHandler reading model.json and its shards from `dir`: only files inside it, no links out,
 * and exactly the bytes the manifest declares (a longer or shorter group is refused unread).
 */
export function fsLoadHandler(
  tf: Tf,
  dir: string,
  limits: ReadLimits = DEFAULT_LIMITS,
): io.IOHandler {
  return {
    load: async () => {
      const modelJson = readModelJson(dir, limits);
      const summary = checkManifest(modelJson, limits);
      return tf.io.getModelArtifactsForJSON(
        modelJson as io.ModelJSON,
        async manifest => {
          const buffers: ArrayBuffer[] = [];
          for (const [gi, group] of manifest.entries()) {
            const declared = summary.groups[gi];
            let left = declared.declaredBytes ?? limits.maxWeightBytes;
            let actual = 0;
            for (const p of group.paths) {
              const before = actual;
              const tooLong = (size: number): Error =>
                groupBytesProblem(declared, gi, before + size, true) ??
                new SmokeLimitError(
                  'maxWeightBytes',
                  `the weight files hold more than ${formatBytes(before + size)}`,
                  limits.maxWeightBytes,
                );
              const buf = await readInside(
                dir,
                shardPath(dir, p),
                `weight file ${JSON.stringify(p)}`,
                left,
                tooLong,
              );
              actual += buf.length;
              left -= buf.length;
              buffers.push(toArrayBuffer(buf));
            }
            checkGroupBytes(declared, gi, actual);
          }
          return [tf.io.getWeightSpecs(manifest), buffers];
        },
      );
    },
  };
}

/** An IOHandler writing model.json + weights.bin into `dir` (created if needed). */
export function fsSaveHandler(tf: Tf, dir: string): io.IOHandler {
  return tf.io.withSaveHandler(async a => {
    fs.mkdirSync(dir, { recursive: true });
    const weights = a.weightData
      ? new tf.io.CompositeArrayBuffer(a.weightData).slice()
      : new ArrayBuffer(0);
    const modelJson: ModelJson = {
      modelTopology: a.modelTopology,
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy ?? null,
      weightsManifest: [
        { paths: ['weights.bin'], weights: a.weightSpecs ?? [] },
      ],
    };
    if (a.signature) modelJson.signature = a.signature;
    if (a.userDefinedMetadata)
      modelJson.userDefinedMetadata = a.userDefinedMetadata;
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
