/**
 * Builds the skeleton's starter model (skeletons/model-project/model/: model.json + weights.bin):
 * a small dense classifier, input `features` float32 [4] → 16 relu → 3 softmax, with fixed initializer seeds,
 * so the committed files are reproducible byte for byte. Run: `npx tsx tools/starter-model/starter.ts [outDir]`.
 */
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadRuntime } from '../../smoke/backend';
import { fsSaveHandler } from '../../smoke/fsio';
import { packageRoot } from '../../actions/shared/paths';

export const STARTER_SEED = 42;

export function starterModelDir(): string {
  return path.join(packageRoot(), 'skeletons', 'model-project', 'model');
}

/** Writes the starter model into `outDir`. TensorFlow is loaded here, lazily. */
export async function buildStarterModel(outDir: string): Promise<void> {
  const rt = await loadRuntime({ device: 'cpu' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const layers = require('@tensorflow/tfjs-layers') as typeof tfl;
  const init = (seed: number) => layers.initializers.glorotUniform({ seed });
  const features = layers.input({ shape: [4], name: 'features' });
  const hidden = layers.layers
    .dense({
      name: 'hidden',
      units: 16,
      activation: 'relu',
      kernelInitializer: init(STARTER_SEED),
    })
    .apply(features);
  const probs = layers.layers
    .dense({
      name: 'probs',
      units: 3,
      activation: 'softmax',
      kernelInitializer: init(STARTER_SEED + 1),
    })
    .apply(hidden);
  const model = layers.model({
    name: 'starter_classifier',
    inputs: features,
    outputs: probs as tfl.SymbolicTensor,
  });
  try {
    await model.save(fsSaveHandler(rt.tf, outDir));
  } finally {
    model.dispose();
  }
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] ?? starterModelDir());
  buildStarterModel(out).then(
    () => process.stdout.write(`starter model written to ${out}\n`),
    e => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
