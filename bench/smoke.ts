/**
 * Smoke engine overhead: per-inference time of runSmoke's timed loop against a bare tfjs loop
 * (predict + dataSync + dispose) on the same model, backend and input, in the same process.
 * Median over rounds (engine and bare interleaved); plus load and warm-up time from the engine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Benchmark } from './index';
import { loadRuntime, type Runtime } from '../actions/model/smoke/backend';
import { runSmoke } from '../actions/model/smoke/engine';
import { fsLoadHandler, fsSaveHandler } from '../actions/model/smoke/fsio';
import { synthesise } from '../actions/model/smoke/inputs';

const ROUNDS = 7;
const RUNS = 200;
const WARMUP = 20;
const SEED = 42;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

interface Case {
  name: string;
  build(l: typeof tfl): tfl.LayersModel;
}

const cases: Case[] = [
  {
    name: 'dense-small 4→8→3',
    build: (l) => {
      const m = l.sequential();
      m.add(l.layers.dense({ name: 'h', inputShape: [4], units: 8, activation: 'relu' }));
      m.add(l.layers.dense({ name: 'out', units: 3, activation: 'softmax' }));
      return m;
    },
  },
  {
    name: 'dense-large 512→1024→1024→10',
    build: (l) => {
      const m = l.sequential();
      m.add(l.layers.dense({ name: 'h1', inputShape: [512], units: 1024, activation: 'relu' }));
      m.add(l.layers.dense({ name: 'h2', units: 1024, activation: 'relu' }));
      m.add(l.layers.dense({ name: 'out', units: 10, activation: 'softmax' }));
      return m;
    },
  },
  {
    name: 'conv 28×28×1 (conv8, pool, conv16, dense10)',
    build: (l) => {
      const m = l.sequential();
      m.add(l.layers.conv2d({ name: 'c1', inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }));
      m.add(l.layers.maxPooling2d({ name: 'p1', poolSize: 2 }));
      m.add(l.layers.conv2d({ name: 'c2', filters: 16, kernelSize: 3, activation: 'relu' }));
      m.add(l.layers.flatten({ name: 'f' }));
      m.add(l.layers.dense({ name: 'out', units: 10, activation: 'softmax' }));
      return m;
    },
  },
];

async function bareLoop(rt: Runtime, dir: string): Promise<number> {
  const model = await rt.tf.loadLayersModel(fsLoadHandler(rt.tf, dir));
  if (model.inputNames.length === 0) (model as unknown as { build(): void }).build();
  const spec = model.inputs[0];
  const shape = spec.shape.map((d) => (d === null ? 1 : d));
  const data = synthesise({ name: model.inputNames[0], dtype: 'float32', shape }, SEED);
  const x = rt.tf.tensor(data.values as Float32Array, shape);
  const once = () => {
    const y = model.predict(x) as Tensor;
    y.dataSync();
    y.dispose();
  };
  for (let i = 0; i < WARMUP; i++) once();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    once();
    samples.push(performance.now() - t);
  }
  x.dispose();
  model.dispose();
  return median(samples);
}

async function run(): Promise<void> {
  const rt = await loadRuntime({ device: 'any' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const layers = require('@tensorflow/tfjs-layers') as typeof tfl;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-bench-'));
  const rows: string[][] = [];
  try {
    for (const c of cases) {
      const dir = path.join(root, c.name.split(' ')[0]);
      const model = c.build(layers);
      const params = model.countParams();
      await model.save(fsSaveHandler(rt.tf, dir));
      model.dispose();
      const engine: number[] = [];
      const bare: number[] = [];
      const load: number[] = [];
      const warm: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which goes first, so neither always gets the warmer process.
        if (r % 2 === 1) bare.push(await bareLoop(rt, dir));
        const report = await runSmoke({ modelDir: dir, runtime: rt, runs: RUNS, warmupRuns: WARMUP, seed: SEED });
        if (!report.passed) throw new Error(`${c.name}: smoke checks failed: ${JSON.stringify(report.checks)}`);
        engine.push(report.timings.p50Ms!);
        load.push(report.timings.loadMs);
        warm.push(report.timings.warmupMs);
        if (r % 2 === 0) bare.push(await bareLoop(rt, dir));
      }
      const e = median(engine);
      const b = median(bare);
      const ratio = e / b;
      rows.push([c.name, params.toLocaleString('en'), rt.backend, median(load).toFixed(1), median(warm).toFixed(1), b.toFixed(3), e.toFixed(3), ratio.toFixed(2), ratio <= 1.1 ? 'yes' : 'NO']);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const header = ['model', 'params', 'backend', 'load ms', `warm-up ms (${WARMUP} runs)`, 'bare p50 ms', 'engine p50 ms', 'engine/bare', '≤ 1.10'];
  const table = [header, header.map(() => '---'), ...rows];
  process.stdout.write(table.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n');
  process.stdout.write(
    `\nmedian of ${ROUNDS} rounds × ${RUNS} timed runs per model (per-inference: predict + dataSync + dispose), engine and bare loop interleaved, alternating which runs first; ` +
      `Node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg()[0].toFixed(1)}\n`,
  );
}

export const smokeBenchmark: Benchmark = {
  name: 'smoke',
  description: 'smoke engine per-inference time vs a bare tfjs predict loop (target: within 10%)',
  run,
};
