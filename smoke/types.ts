/** Plain data types shared by the smoke engine, the endpoint mode, the CLI and the action. */

export type ModelFormat = 'layers-model' | 'graph-model' | 'saved-model';
export type FormatOption = 'auto' | ModelFormat;
/** dtypes the engine can synthesise and feed. */
export type FeedDtype = 'float32' | 'int32' | 'bool' | 'string';

export interface TensorSpec {
  /** Signature key (what callers name inputs and outputs by). */
  name: string;
  /** dtype as tfjs names it, or the raw TF dtype (`DT_HALF`) when tfjs has no equivalent. */
  dtype: string;
  /** -1 = unknown dimension; null = unknown rank. */
  shape: number[] | null;
  /** Underlying graph tensor name, where it differs (`x:0`). */
  tensorName?: string;
}

export interface Signature {
  name: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Assumptions made to build a feed (unknown dims set to 1, …). */
  notes?: string[];
}

export interface ExplicitInput {
  /** Nested arrays, or a flat array together with `shape`. */
  values: unknown;
  shape?: number[];
}
export type ExplicitInputs = Record<string, ExplicitInput>;

export interface OutputExpectation {
  /** Expected shape; -1 matches any size. */
  shape?: number[];
  min?: number;
  max?: number;
}

export interface Tolerance {
  absolute: number;
  relative: number;
}

/** What a smoke check runs and checks, the same for a model on disk and a serving endpoint. */
export interface SmokeCheckOptions {
  signatureName?: string;
  /** Timed runs (default 20). */
  runs?: number;
  /** Untimed runs before timing (default 2, at least 1). */
  warmupRuns?: number;
  seed?: number;
  inputs?: ExplicitInputs;
  /** Integer inputs are synthesised in [0, intMax). */
  intMax?: number;
  tolerance?: Partial<Tolerance>;
  /** Fails the `latency` check when p95 exceeds it. */
  latencyBudgetMs?: number;
  expectOutputs?: Record<string, OutputExpectation>;
  /** Read the signature only; no inference. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface CheckResult {
  id:
    | 'outputs'
    | 'finite'
    | 'deterministic'
    | 'no-leak'
    | 'latency'
    | 'expected-output'
    | 'available';
  passed: boolean;
  reason: string;
}

export interface OutputSummary {
  name: string;
  dtype: string;
  shape: number[];
  min: number | null;
  max: number | null;
  mean: number | null;
  nonFinite: number;
  sample: Array<number | string | boolean>;
}

export interface InputSummary {
  name: string;
  dtype: string;
  shape: number[];
  source: 'synthesised' | 'explicit';
}

export interface SmokeReport {
  tool: 'tf-smoke';
  reportVersion: 1;
  mode: 'local' | 'endpoint';
  dryRun: boolean;
  model: {
    path?: string;
    endpoint?: string;
    name?: string;
    version?: string;
    format: ModelFormat | 'tf-serving';
  };
  backend: string;
  nativePackage: string | null;
  device: { kind: 'gpu' | 'cpu' | 'remote'; name?: string };
  signature: Signature;
  seed: number;
  inputs: InputSummary[];
  timings: {
    loadMs: number;
    warmupMs: number;
    runs: number;
    p50Ms: number | null;
    p95Ms: number | null;
    meanMs: number | null;
  };
  outputs: OutputSummary[];
  checks: CheckResult[];
  passed: boolean;
  startedAt: string;
  durationMs: number;
}
