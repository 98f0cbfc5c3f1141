/**
 * The smoke inference engine: plain TypeScript, independent of Backstage. TensorFlow is loaded
 * lazily (loadRuntime) when a smoke run starts, never on import.
 */
import path from 'node:path';
import type { Tensor } from '@tensorflow/tfjs-core';
import {
  loadRuntime,
  type DevicePolicy,
  type JsBackend,
  type Runtime,
} from './backend';
import {
  checkDeterministic,
  checkExpectations,
  checkFinite,
  checkLatency,
  checkNoLeak,
  checkOutputs,
  latencyStats,
  summarise,
  type OutputData,
} from './checks';
import {
  loadModel,
  savedModelNeedsNative,
  detectFormat,
  type LoadedModel,
} from './formats';
import { buildInputs, type InputData } from './inputs';
import { feedSpecs } from './signature';
import type {
  CheckResult,
  FormatOption,
  SmokeCheckOptions,
  SmokeReport,
  Tolerance,
} from './types';
import { withDefaults, type SmokeLimits } from './limits';
import { checkInputBytes, inputBytes } from './preflight';

export interface SmokeOptions extends SmokeCheckOptions {
  /** Folder holding saved_model.pb, or model.json + weight shards. */
  modelDir: string;
  format?: FormatOption;
  device?: DevicePolicy;
  /** Pure-JS backend when no native package is used. Default `auto` (wasm, cpu if wasm cannot start). */
  jsBackend?: JsBackend;
  /** Injected runtime (tests, bench); loaded from `device`/`jsBackend` otherwise. */
  runtime?: Runtime;
  /** Report path shown in the report (the model folder as the caller named it). */
  displayPath?: string;
  /** Size limits applied while reading the model and building inputs (defaults: DEFAULT_LIMITS). */
  limits?: Partial<SmokeLimits>;
}

export const DEFAULT_TOLERANCE: Tolerance = { absolute: 1e-5, relative: 1e-4 };

export class SmokeAbortedError extends Error {
  constructor() {
    super('smoke inference was cancelled');
    this.name = 'AbortError';
  }
}

function throwIfAborted(signal?: AbortSignal) {
  if (signal?.aborted) throw new SmokeAbortedError();
}

const yieldToEventLoop = () =>
  new Promise<void>(resolve => setImmediate(resolve));
const ms = (x: number) => Math.round(x * 1000) / 1000;

function toTensor(rt: Runtime, d: InputData): Tensor {
  if (d.dtype === 'string')
    return rt.tf.tensor(d.values as string[], d.shape, 'string');
  return rt.tf.tensor(
    d.values as Float32Array | Int32Array | Uint8Array,
    d.shape,
    d.dtype,
  );
}

function read(outs: Array<{ name: string; tensor: Tensor }>): OutputData[] {
  return outs.map(({ name, tensor }) => ({
    name,
    dtype: tensor.dtype,
    shape: tensor.shape.slice(),
    values: tensor.dataSync() as unknown as ArrayLike<number> | string[],
  }));
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const started = Date.now();
  const signal = options.signal;
  const runs = options.runs ?? 20;
  const warmupRuns = Math.max(1, options.warmupRuns ?? 2);
  const seed = options.seed ?? 42;
  const tolerance = { ...DEFAULT_TOLERANCE, ...options.tolerance };
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`runs must be a whole number ≥ 1 (got ${runs})`);
  throwIfAborted(signal);

  const modelDir = path.resolve(options.modelDir);
  const limits = withDefaults(options.limits);
  const format = detectFormat(modelDir, limits);
  const rt =
    options.runtime ??
    (await loadRuntime({
      device: options.device,
      jsBackend: options.jsBackend,
    }));
  if (format === 'saved-model' && !rt.nativePackage)
    throw savedModelNeedsNative(options.displayPath ?? options.modelDir);
  throwIfAborted(signal);

  const tf = rt.tf;
  const t0 = performance.now();
  const model: LoadedModel = await loadModel(rt, modelDir, {
    format: options.format,
    signatureName: options.signatureName,
    limits,
  });
  const loadMs = performance.now() - t0;
  let inputs: Record<string, Tensor> = {};
  try {
    const { feeds, notes } = feedSpecs(
      model.signature,
      new Set(Object.keys(options.inputs ?? {})),
    );
    const signature = notes.length
      ? { ...model.signature, notes }
      : model.signature;
    const sigShapes = Object.fromEntries(
      model.signature.inputs.map(i => [i.name, i.shape]),
    );
    // The loaded signature is authoritative (preflight read model.json only): refuse before allocating inputs.
    checkInputBytes(
      feeds.map(f => {
        const given = options.inputs?.[f.name];
        const shape = given
          ? (given.shape ?? [
              Array.isArray(given.values)
                ? (given.values as unknown[]).flat(Infinity).length
                : 1,
            ])
          : f.shape;
        return {
          name: f.name,
          dtype: f.dtype,
          shape,
          bytes: inputBytes(f.dtype, shape),
        };
      }),
      limits.maxInputBytes,
    );
    const data = buildInputs(feeds, sigShapes, seed, options.inputs, {
      intMax: options.intMax,
    });
    const base: Omit<
      SmokeReport,
      'timings' | 'outputs' | 'checks' | 'passed' | 'durationMs'
    > = {
      tool: 'tf-smoke',
      reportVersion: 1,
      mode: 'local',
      dryRun: !!options.dryRun,
      model: {
        path: options.displayPath ?? options.modelDir,
        format: model.format,
      },
      backend: rt.backend,
      nativePackage: rt.nativePackage,
      device: rt.device,
      signature,
      seed,
      inputs: data.map(d => ({
        name: d.name,
        dtype: d.dtype,
        shape: d.shape,
        source: d.source,
      })),
      startedAt: new Date(started).toISOString(),
    };
    if (options.dryRun) {
      return {
        ...base,
        timings: {
          loadMs: ms(loadMs),
          warmupMs: 0,
          runs: 0,
          p50Ms: null,
          p95Ms: null,
          meanMs: null,
        },
        outputs: [],
        checks: [],
        passed: true,
        durationMs: Date.now() - started,
      };
    }
    inputs = Object.fromEntries(data.map(d => [d.name, toTensor(rt, d)]));

    // Warm-up: the first run compiles kernels; its outputs are the reference for the determinism check.
    const w0 = performance.now();
    let first: OutputData[] = [];
    for (let i = 0; i < warmupRuns; i++) {
      throwIfAborted(signal);
      const res = model.run(inputs);
      const outs = Array.isArray(res) ? res : await res;
      try {
        if (i === 0) first = read(outs);
        else for (const o of outs) o.tensor.dataSync();
      } finally {
        outs.forEach(o => o.tensor.dispose());
      }
      if (i === 0) await yieldToEventLoop();
    }
    const warmupMs = performance.now() - w0;

    const baseline = tf.memory().numTensors;
    const samples: number[] = [];
    let last: OutputData[] = [];
    // Yield to the event loop (so an abort can arrive) at most every 20 ms: yielding before every run
    // would cool caches and add measurable overhead to sub-millisecond inferences.
    let lastYield = performance.now();
    for (let i = 0; i < runs; i++) {
      if (performance.now() - lastYield > 20) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      throwIfAborted(signal);
      const s = performance.now();
      const res = model.run(inputs);
      const outs = Array.isArray(res) ? res : await res;
      for (const o of outs) o.tensor.dataSync();
      samples.push(performance.now() - s);
      if (i === runs - 1) last = read(outs);
      outs.forEach(o => o.tensor.dispose());
    }
    const leaked = tf.memory().numTensors - baseline;

    const stats = latencyStats(samples);
    const checks: CheckResult[] = [
      checkOutputs(model.signature, last),
      checkFinite(last),
      checkDeterministic(first, last, tolerance),
      checkNoLeak(leaked, runs),
    ];
    if (options.latencyBudgetMs !== undefined)
      checks.push(checkLatency(stats.p95Ms, options.latencyBudgetMs));
    if (options.expectOutputs)
      checks.push(...checkExpectations(options.expectOutputs, last));
    return {
      ...base,
      timings: { loadMs: ms(loadMs), warmupMs: ms(warmupMs), runs, ...stats },
      outputs: last.map(summarise),
      checks,
      passed: checks.every(c => c.passed),
      durationMs: Date.now() - started,
    };
  } finally {
    Object.values(inputs).forEach(t => t.dispose());
    model.dispose();
  }
}

/** Failed checks as one message a model owner can act on. */
export function failureMessage(report: SmokeReport): string {
  const failed = report.checks.filter(c => !c.passed);
  return `smoke inference of ${report.model.path ?? report.model.name} failed ${failed.length} check(s): ${failed.map(c => `[${c.id}] ${c.reason}`).join(' | ')}`;
}
