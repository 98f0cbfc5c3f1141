/**
 * Small TF.js models built in-process for the smoke tests: nothing is downloaded. Layers models are
 * saved with the engine's fs IOHandler; graph models are generated as GraphDef JSON per
 * shared/reference/tfjs-in-node.md §3 ("Graph models without Python").
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { fsSaveHandler } from '../../smoke/fsio';
import type { Tf } from '../../smoke/backend';

tf.enableProdMode();
const tfAll = tf as unknown as Tf;

export async function saveLayers(
  model: tfl.LayersModel,
  dir: string,
): Promise<string> {
  await model.save(fsSaveHandler(tfAll, dir));
  model.dispose();
  return dir;
}

/** Dense classifier 4 → 8 relu → 3 softmax. */
export function denseClassifier(seed = 1): tfl.Sequential {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  const m = tfl.sequential({ name: 'dense_classifier' });
  m.add(
    tfl.layers.dense({
      name: 'hidden',
      inputShape: [4],
      units: 8,
      activation: 'relu',
      kernelInitializer: init(seed),
    }),
  );
  m.add(
    tfl.layers.dense({
      name: 'probs',
      units: 3,
      activation: 'softmax',
      kernelInitializer: init(seed + 1),
    }),
  );
  return m;
}

/** Two named inputs: `features` float32 [4] and `token_ids` int32 [3]; outputs `probs` [3] and `score` [1]. */
export function multiInput(): tfl.LayersModel {
  const features = tfl.input({ shape: [4], name: 'features' });
  const tokens = tfl.input({ shape: [3], dtype: 'int32', name: 'token_ids' });
  const emb = tfl.layers
    .embedding({ inputDim: 10, outputDim: 2, name: 'embed' })
    .apply(tokens) as tfl.SymbolicTensor;
  const flat = tfl.layers
    .flatten({ name: 'flat' })
    .apply(emb) as tfl.SymbolicTensor;
  const joined = tfl.layers
    .concatenate({ name: 'joined' })
    .apply([features, flat]) as tfl.SymbolicTensor;
  const probs = tfl.layers
    .dense({ units: 3, activation: 'softmax', name: 'probs' })
    .apply(joined) as tfl.SymbolicTensor;
  const score = tfl.layers
    .dense({ units: 1, activation: 'sigmoid', name: 'score' })
    .apply(joined) as tfl.SymbolicTensor;
  return tfl.model({
    inputs: [features, tokens],
    outputs: [probs, score],
    name: 'multi_input',
  });
}

/** Conv image model 16×16×1 → conv 4 → maxpool → flatten → dense 10. */
export function convImage(): tfl.Sequential {
  const m = tfl.sequential({ name: 'conv_image' });
  m.add(
    tfl.layers.conv2d({
      name: 'conv',
      inputShape: [16, 16, 1],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
    }),
  );
  m.add(tfl.layers.maxPooling2d({ name: 'pool', poolSize: 2 }));
  m.add(tfl.layers.flatten({ name: 'flat' }));
  m.add(tfl.layers.dense({ name: 'logits', units: 10, activation: 'softmax' }));
  return m;
}

/** The dense classifier with NaN weights: every output is NaN. */
export function nanModel(): tfl.Sequential {
  const m = denseClassifier();
  const w = m.getLayer('probs').getWeights();
  m.getLayer('probs').setWeights([tf.fill(w[0].shape, NaN), w[1]]);
  return m;
}

/** A custom layer that keeps one tensor alive per call: a genuine leak that tidy() cannot clean up. */
export class LeakyIdentity extends tfl.layers.Layer {
  static className = 'SmokeLeakyIdentity';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    tf.keep(tf.zeros([1]));
    return x.clone();
  }
}
tf.serialization.registerClass(LeakyIdentity);

export function leakyModel(): tfl.Sequential {
  const m = denseClassifier();
  m.add(new LeakyIdentity({ name: 'leaky' }));
  return m;
}

// ---- graph models -------------------------------------------------------------------------------

const dim = (shape: number[]) => ({
  dim: shape.map(d => ({ size: String(d) })),
});
const F = { type: 'DT_FLOAT' };

export interface GraphOptions {
  /** Declared output shape in the signature (default: the true one). */
  declaredOutputShape?: number[];
  /** Leave out the signature (inputs: Placeholders, outputs: leaf nodes). */
  noSignature?: boolean;
  /** Declare the input with an unknown rank. */
  unknownRankInput?: boolean;
  /** Declared input dtype (e.g. DT_HALF to test an unfeedable dtype). */
  inputDtype?: string;
}

/**
 * A graph model (MatMul, BiasAdd, Relu, Softmax) with the weights of a dense Sequential,
 * input `features` [-1, in], output `probs` [-1, out].
 */
export async function denseGraphModel(
  source: tfl.Sequential,
  dir: string,
  options: GraphOptions = {},
): Promise<string> {
  const nodes: unknown[] = [];
  const consts: Record<string, tf.Tensor> = {};
  const inDim = source.inputs[0].shape[1] as number;
  nodes.push({
    name: 'x',
    op: 'Placeholder',
    attr: {
      dtype: F,
      ...(options.unknownRankInput
        ? {}
        : { shape: { shape: dim([-1, inDim]) } }),
    },
  });
  let prev = 'x';
  let outDim = inDim;
  source.layers.forEach((layer, i) => {
    const [kernel, bias] = layer.getWeights();
    const n = `dense_${i}`;
    consts[`${n}/kernel`] = kernel;
    consts[`${n}/bias`] = bias;
    const cst = (name: string, t: tf.Tensor) => ({
      name,
      op: 'Const',
      attr: {
        dtype: F,
        value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(t.shape) } },
      },
    });
    nodes.push(cst(`${n}/kernel`, kernel), cst(`${n}/bias`, bias));
    nodes.push({
      name: `${n}/MatMul`,
      op: 'MatMul',
      input: [prev, `${n}/kernel`],
      attr: { T: F, transpose_a: { b: false }, transpose_b: { b: false } },
    });
    nodes.push({
      name: `${n}/BiasAdd`,
      op: 'BiasAdd',
      input: [`${n}/MatMul`, `${n}/bias`],
      attr: {
        T: F,
        data_format: { s: Buffer.from('NHWC').toString('base64') },
      },
    });
    const act = (layer.getConfig() as { activation?: string }).activation;
    const last = i === source.layers.length - 1;
    const actName = last ? 'probs/Softmax' : `${n}/Relu`;
    nodes.push({
      name: actName,
      op: act === 'softmax' ? 'Softmax' : 'Relu',
      input: [`${n}/BiasAdd`],
      attr: { T: F },
    });
    prev = actName;
    outDim = kernel.shape[1] as number;
  });
  const { data, specs } = await tf.io.encodeWeights(consts);
  const signature = {
    inputs: {
      features: {
        name: 'x:0',
        dtype: options.inputDtype ?? 'DT_FLOAT',
        ...(options.unknownRankInput
          ? { tensorShape: { unknownRank: true } }
          : { tensorShape: dim([-1, inDim]) }),
      },
    },
    outputs: {
      probs: {
        name: `${prev}:0`,
        dtype: 'DT_FLOAT',
        tensorShape: dim(options.declaredOutputShape ?? [-1, outDim]),
      },
    },
  };
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'smoke-models test generator',
    convertedBy: null,
    modelTopology: { node: nodes, versions: { producer: 1395 } },
    ...(options.noSignature ? {} : { signature }),
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }],
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  fs.writeFileSync(
    path.join(dir, 'group1-shard1of1.bin'),
    Buffer.from(data as ArrayBuffer),
  );
  return dir;
}

/** A graph model with a dynamic op (Where): tfjs runs it only through executeAsync. Output `indices` int32 [-1, 2]. */
export async function whereGraphModel(dir: string): Promise<string> {
  const half = tf.scalar(0.5);
  const { data, specs } = await tf.io.encodeWeights({ half });
  half.dispose();
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'smoke-models test generator',
    convertedBy: null,
    modelTopology: {
      node: [
        {
          name: 'x',
          op: 'Placeholder',
          attr: { dtype: F, shape: { shape: dim([-1, 4]) } },
        },
        {
          name: 'half',
          op: 'Const',
          attr: {
            dtype: F,
            value: { tensor: { dtype: 'DT_FLOAT', tensorShape: {} } },
          },
        },
        { name: 'above', op: 'Greater', input: ['x', 'half'], attr: { T: F } },
        {
          name: 'indices',
          op: 'Where',
          input: ['above'],
          attr: { T: { type: 'DT_BOOL' } },
        },
      ],
      versions: { producer: 1395 },
    },
    signature: {
      inputs: {
        features: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: dim([-1, 4]) },
      },
      outputs: {
        indices: {
          name: 'indices:0',
          dtype: 'DT_INT64',
          tensorShape: dim([-1, 2]),
        },
      },
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }],
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  fs.writeFileSync(
    path.join(dir, 'group1-shard1of1.bin'),
    Buffer.from(data as ArrayBuffer),
  );
  return dir;
}

/** Builds every fixture model into `root`; returns their folders. */
export async function buildSmokeModels(root: string) {
  const dense = denseClassifier();
  const dirs = {
    dense: await saveLayers(denseClassifier(), path.join(root, 'dense')),
    multi: await saveLayers(multiInput(), path.join(root, 'multi')),
    conv: await saveLayers(convImage(), path.join(root, 'conv')),
    nan: await saveLayers(nanModel(), path.join(root, 'nan')),
    leaky: await saveLayers(leakyModel(), path.join(root, 'leaky')),
    graph: await denseGraphModel(dense, path.join(root, 'graph')),
    graphNoSignature: await denseGraphModel(
      dense,
      path.join(root, 'graph-nosig'),
      { noSignature: true },
    ),
    graphWrongShape: await denseGraphModel(
      dense,
      path.join(root, 'graph-wrong-shape'),
      { declaredOutputShape: [-1, 5] },
    ),
    graphUnknownRank: await denseGraphModel(
      dense,
      path.join(root, 'graph-unknown-rank'),
      { unknownRankInput: true },
    ),
    graphHalf: await denseGraphModel(dense, path.join(root, 'graph-half'), {
      inputDtype: 'DT_HALF',
    }),
    graphDynamic: await whereGraphModel(path.join(root, 'graph-dynamic')),
  };
  dense.dispose();
  return dirs;
}

// ---- heavy and hostile models (sandbox tests, bench) ---------------------------------------------

/**
 * A conv net with few weights and a lot of compute: `layers` 3×3 convolutions of `filters` channels
 * on a size×size×3 image ('same' padding), global average pooling, dense 10 softmax. At 128/32/6
 * one inference takes a few hundred ms on wasm.
 */
export function heavyConvModel({
  size = 128,
  filters = 32,
  layers = 6,
} = {}): tfl.Sequential {
  const m = tfl.sequential({ name: 'heavy_conv' });
  for (let i = 0; i < layers; i++) {
    m.add(
      tfl.layers.conv2d({
        name: `conv${i}`,
        ...(i === 0 ? { inputShape: [size, size, 3] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 7 + i }),
      }),
    );
  }
  m.add(tfl.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(
    tfl.layers.dense({
      name: 'probs',
      units: 10,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
    }),
  );
  return m;
}

/** No weights, a small input, a huge output: 64×64×3 upsampled by `factor` (80 → 5120×5120×3 float32, 300 MiB). */
export function upsampleModel(factor = 80): tfl.Sequential {
  const m = tfl.sequential({ name: 'upsample' });
  m.add(
    tfl.layers.upSampling2d({
      name: 'up',
      inputShape: [64, 64, 3],
      size: [factor, factor],
    }),
  );
  return m;
}

/** A graph model declaring a `rows`×`cols` float32 input (no batch dimension) and no weights. */
export function hugeInputGraphModel(
  dir: string,
  rows = 60000,
  cols = 60000,
): string {
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'smoke-models test generator',
    convertedBy: null,
    modelTopology: {
      node: [
        {
          name: 'x',
          op: 'Placeholder',
          attr: { dtype: F, shape: { shape: dim([rows, cols]) } },
        },
        { name: 'y', op: 'Relu', input: ['x'], attr: { T: F } },
      ],
      versions: { producer: 1395 },
    },
    signature: {
      inputs: {
        x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: dim([rows, cols]) },
      },
      outputs: {
        y: { name: 'y:0', dtype: 'DT_FLOAT', tensorShape: dim([rows, cols]) },
      },
    },
    weightsManifest: [],
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  return dir;
}
