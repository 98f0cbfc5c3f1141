/**
 * The smoke benchmark's measurements, run inside an isolated runner (forked by bench/smoke.ts through
 * smoke/sandbox.ts, like a validation): runSmoke's timed loop against a bare predict
 * loop on the same model, backend and input, interleaved round by round.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { serve } from '../smoke/child';
import { loadRuntime, type Runtime } from '../smoke/backend';
import { runSmoke } from '../smoke/engine';
import { fsLoadHandler } from '../smoke/fsio';
import { synthesise } from '../smoke/inputs';

export interface SmokeBenchJob {
  dir: string;
  rounds: number;
  warmup: number;
  /** Each round's timed loop lasts at least this long (runs are calibrated per model). */
  targetMs: number;
  minRuns: number;
  maxRuns: number;
  seed: number;
}

export interface SmokeBenchResult {
  backend: string;
  runs: number;
  /** Per round: engine p50, bare p50 (ms per inference), engine load and warm-up (ms). */
  engine: number[];
  bare: number[];
  load: number[];
  warm: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** A model with its input, ready for the bare loop: predict + dataSync + dispose, nothing else. */
async function bareModel(rt: Runtime, dir: string, seed: number) {
  const model = await rt.tf.loadLayersModel(fsLoadHandler(rt.tf, dir));
  if (model.inputNames.length === 0)
    (model as unknown as { build(): void }).build();
  const shape = model.inputs[0].shape.map(d => (d === null ? 1 : d));
  const data = synthesise(
    { name: model.inputNames[0], dtype: 'float32', shape },
    seed,
  );
  const x = rt.tf.tensor(data.values as Float32Array, shape);
  return {
    once() {
      const y = model.predict(x) as Tensor;
      y.dataSync();
      y.dispose();
    },
    dispose() {
      x.dispose();
      model.dispose();
    },
  };
}

async function bareLoop(
  rt: Runtime,
  dir: string,
  job: SmokeBenchJob,
  runs: number,
): Promise<number> {
  const m = await bareModel(rt, dir, job.seed);
  for (let i = 0; i < job.warmup; i++) m.once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    m.once();
    samples.push(performance.now() - t);
  }
  m.dispose();
  return median(samples);
}

serve<SmokeBenchJob>(async (job): Promise<SmokeBenchResult> => {
  const rt = await loadRuntime({ device: 'any' });
  // V8 needs far more than `warmup` calls before tfjs-layers' JavaScript is optimised: one untimed pass.
  await bareLoop(rt, job.dir, job, job.minRuns * 5);
  const out: SmokeBenchResult = {
    backend: rt.backend,
    runs: job.minRuns,
    engine: [],
    bare: [],
    load: [],
    warm: [],
  };
  const runsFor = () =>
    out.bare.length
      ? Math.max(
          job.minRuns,
          Math.min(job.maxRuns, Math.ceil(job.targetMs / median(out.bare))),
        )
      : job.minRuns;
  for (let r = 0; r < job.rounds; r++) {
    // Enough runs that each timed loop lasts targetMs (sized from the bare p50 so far); both loops of a round run the same count.
    const runs = runsFor();
    out.runs = runs;
    // Alternate which goes first, so neither always gets the warmer process.
    if (r % 2 === 1) out.bare.push(await bareLoop(rt, job.dir, job, runs));
    const report = await runSmoke({
      modelDir: job.dir,
      runtime: rt,
      runs,
      warmupRuns: job.warmup,
      seed: job.seed,
    });
    if (!report.passed)
      throw new Error(`smoke checks failed: ${JSON.stringify(report.checks)}`);
    out.engine.push(report.timings.p50Ms!);
    out.load.push(report.timings.loadMs);
    out.warm.push(report.timings.warmupMs);
    if (r % 2 === 0) out.bare.push(await bareLoop(rt, job.dir, job, runs));
  }
  return out;
});
