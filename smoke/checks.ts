/** The smoke checks as pure functions over plain values. */
import { shapeMatches } from './signature';
import type {
  CheckResult,
  OutputExpectation,
  OutputSummary,
  Signature,
  Tolerance,
} from './types';

export interface OutputData {
  name: string;
  dtype: string;
  shape: number[];
  values: ArrayLike<number> | string[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return sorted[idx];
}

export function latencyStats(samples: number[]): {
  p50Ms: number | null;
  p95Ms: number | null;
  meanMs: number | null;
} {
  if (samples.length === 0) return { p50Ms: null, p95Ms: null, meanMs: null };
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50Ms: r(percentile(s, 50)),
    p95Ms: r(percentile(s, 95)),
    meanMs: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

const numeric = (o: OutputData) =>
  typeof o.values[0] !== 'string' && o.dtype !== 'string';

export function summarise(o: OutputData): OutputSummary {
  const sample = Array.from(o.values as ArrayLike<number | string>).slice(
    0,
    5,
  ) as Array<number | string>;
  if (!numeric(o))
    return {
      name: o.name,
      dtype: o.dtype,
      shape: o.shape,
      min: null,
      max: null,
      mean: null,
      nonFinite: 0,
      sample,
    };
  const v = o.values as ArrayLike<number>;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  let nonFinite = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) {
      nonFinite++;
      continue;
    }
    finite++;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return {
    name: o.name,
    dtype: o.dtype,
    shape: o.shape,
    min: finite ? min : null,
    max: finite ? max : null,
    mean: finite ? sum / finite : null,
    nonFinite,
    sample: sample.map(x =>
      typeof x === 'number' && !Number.isFinite(x) ? String(x) : x,
    ),
  };
}

const fmt = (s: number[] | null) =>
  s === null ? 'unknown rank' : `[${s.map(d => (d < 0 ? '?' : d)).join(',')}]`;

/** Every signature output is present, with the signature's shape (batch dimension aside). */
export function checkOutputs(
  signature: Signature,
  outputs: OutputData[],
): CheckResult {
  const problems: string[] = [];
  for (const spec of signature.outputs) {
    const out = outputs.find(o => o.name === spec.name);
    if (!out) {
      problems.push(`output '${spec.name}' is missing from the result`);
      continue;
    }
    if (spec.shape && !shapeMatches(spec.shape, out.shape, true)) {
      problems.push(
        `output '${spec.name}' has shape ${fmt(out.shape)} but the signature declares ${fmt(spec.shape)}`,
      );
    }
  }
  if (problems.length)
    return {
      id: 'outputs',
      passed: false,
      reason: `${problems.join('; ')}. Fix the model or re-export its signature.`,
    };
  const undeclared = signature.outputs
    .filter(s => s.shape === null)
    .map(s => s.name);
  return {
    id: 'outputs',
    passed: true,
    reason: `all ${signature.outputs.length} output(s) present with the declared shape${
      undeclared.length
        ? ` (no shape declared for ${undeclared.join(', ')}: presence only)`
        : ''
    }`,
  };
}

export function checkFinite(outputs: OutputData[]): CheckResult {
  const bad = outputs
    .filter(numeric)
    .map(summarise)
    .filter(s => s.nonFinite > 0);
  if (bad.length) {
    return {
      id: 'finite',
      passed: false,
      reason:
        `${bad.map(s => `output '${s.name}' has ${s.nonFinite} NaN/Infinity value(s)`).join('; ')}` +
        `. Check the weights (NaN after training?) and numerically unstable ops (log/divide of 0, overflow).`,
    };
  }
  return { id: 'finite', passed: true, reason: 'all output values are finite' };
}

/** Two runs on the same input agree within |a-b| <= absolute + relative*|a|. */
export function checkDeterministic(
  a: OutputData[],
  b: OutputData[],
  tol: Tolerance,
): CheckResult {
  let worst = 0;
  let worstName = '';
  for (const x of a) {
    const y = b.find(o => o.name === x.name);
    if (!y || y.values.length !== x.values.length) {
      return {
        id: 'deterministic',
        passed: false,
        reason: `output '${x.name}' changed shape between two runs on the same input`,
      };
    }
    for (let i = 0; i < x.values.length; i++) {
      const p = x.values[i];
      const q = y.values[i];
      if (typeof p === 'string' || typeof q === 'string') {
        if (p !== q)
          return {
            id: 'deterministic',
            passed: false,
            reason: `output '${x.name}' differs between two runs on the same input`,
          };
        continue;
      }
      if (Number.isNaN(p) && Number.isNaN(q)) continue;
      const diff = Math.abs(p - q);
      if (diff <= tol.absolute + tol.relative * Math.abs(p)) continue;
      const d = Number.isNaN(diff) ? Infinity : diff;
      if (!worstName || d > worst) {
        worst = d;
        worstName = x.name;
      }
    }
  }
  if (worstName) {
    return {
      id: 'deterministic',
      passed: false,
      reason: `output '${worstName}' differs by ${worst} between two runs on the same input (tolerance ${tol.absolute} + ${tol.relative}·|x|); look for randomness left on at inference (dropout, noise layers) or stateful ops`,
    };
  }
  return {
    id: 'deterministic',
    passed: true,
    reason: `two runs on the same input agree within ${tol.absolute} + ${tol.relative}·|x|`,
  };
}

export function checkNoLeak(leakedTensors: number, runs: number): CheckResult {
  if (leakedTensors > 0) {
    return {
      id: 'no-leak',
      passed: false,
      reason: `${leakedTensors} tensor(s) were left allocated after ${runs} run(s); a custom layer or op keeps tensors (tf.keep / missing dispose) and will exhaust memory in serving`,
    };
  }
  return {
    id: 'no-leak',
    passed: true,
    reason: `tfjs memory back to its baseline after ${runs} run(s)`,
  };
}

export function checkLatency(
  p95Ms: number | null,
  budgetMs: number,
): CheckResult {
  if (p95Ms === null)
    return {
      id: 'latency',
      passed: false,
      reason: 'no timed runs, so the latency budget cannot be checked',
    };
  return p95Ms <= budgetMs
    ? {
        id: 'latency',
        passed: true,
        reason: `p95 ${p95Ms} ms within the ${budgetMs} ms budget`,
      }
    : {
        id: 'latency',
        passed: false,
        reason: `p95 ${p95Ms} ms exceeds the ${budgetMs} ms budget; use a smaller model, a GPU, or raise the budget`,
      };
}

export function checkExpectations(
  expect: Record<string, OutputExpectation>,
  outputs: OutputData[],
): CheckResult[] {
  return Object.entries(expect).map(([name, e]): CheckResult => {
    const out = outputs.find(o => o.name === name);
    if (!out)
      return {
        id: 'expected-output',
        passed: false,
        reason: `expected output '${name}' is not an output of the model (outputs: ${outputs.map(o => o.name).join(', ')})`,
      };
    const problems: string[] = [];
    if (e.shape && !shapeMatches(e.shape, out.shape, false))
      problems.push(
        `shape ${fmt(out.shape)} is not the expected ${fmt(e.shape)}`,
      );
    const s = summarise(out);
    if (e.min !== undefined && (s.min === null || s.min < e.min))
      problems.push(`minimum ${s.min} is below the expected ${e.min}`);
    if (e.max !== undefined && (s.max === null || s.max > e.max))
      problems.push(`maximum ${s.max} is above the expected ${e.max}`);
    return problems.length
      ? {
          id: 'expected-output',
          passed: false,
          reason: `output '${name}': ${problems.join('; ')}`,
        }
      : {
          id: 'expected-output',
          passed: true,
          reason: `output '${name}' matches the expected shape/range`,
        };
  });
}
