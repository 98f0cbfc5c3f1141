/**
 * Endpoint mode: the smoke checks against a running TensorFlow Serving REST endpoint
 * (GET /v1/models/{name} until AVAILABLE, GET …/metadata, POST …:predict; TF Serving g3doc/api_rest.md).
 */
import { redactUrl } from './redact';
import {
  checkDeterministic,
  checkExpectations,
  checkFinite,
  checkLatency,
  checkOutputs,
  latencyStats,
  summarise,
  type OutputData,
} from './checks';
import { DEFAULT_TOLERANCE, SmokeAbortedError } from './engine';
import { buildInputs } from './inputs';
import { feedSpecs, signatureFromSignatureDef } from './signature';
import { flattenNested, nest, parseTfJson } from './tfjson';
import type { CheckResult, SmokeCheckOptions, SmokeReport } from './types';

export interface EndpointSmokeOptions extends SmokeCheckOptions {
  /** Base URL of the REST API, e.g. http://127.0.0.1:8501 */
  endpoint: string;
  model: string;
  version?: string;
  label?: string;
  /** How long to wait for a version to become AVAILABLE (default 30 s). */
  availableTimeoutMs?: number;
  pollIntervalMs?: number;
  fetch?: typeof fetch;
}

export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointError';
  }
}

interface StatusResponse {
  model_version_status?: Array<{
    version: string;
    state: string;
    status?: { error_code?: string; error_message?: string };
  }>;
  error?: string;
}

export function modelBaseUrl(
  o: Pick<EndpointSmokeOptions, 'endpoint' | 'model' | 'version' | 'label'>,
): string {
  const u = new URL(o.endpoint);
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new EndpointError(
      `endpoint must be an http(s) URL, got ${o.endpoint}`,
    );
  if (!/^[^/:]+$/.test(o.model))
    throw new EndpointError(
      `model name '${o.model}' is not a valid TF Serving model name (no '/' or ':')`,
    );
  if (o.version !== undefined && !/^\d+$/.test(o.version))
    throw new EndpointError(`version '${o.version}' must be a number`);
  if (o.label !== undefined && !/^[a-zA-Z0-9_]+$/.test(o.label))
    throw new EndpointError(`label '${o.label}' must match [a-zA-Z0-9_]+`);
  const base = u.toString().replace(/\/+$/, '');
  return `${base}/v1/models/${encodeURIComponent(o.model)}${versionSuffix(o)}`;
}

/** The path suffix that pins a version or a label; a version wins over a label. */
function versionSuffix(
  o: Pick<EndpointSmokeOptions, 'version' | 'label'>,
): string {
  if (o.version) return `/versions/${o.version}`;
  if (o.label) return `/labels/${o.label}`;
  return '';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new SmokeAbortedError());
      },
      { once: true },
    );
  });

async function call(
  f: typeof fetch,
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await f(url, init);
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw new SmokeAbortedError();
    throw new EndpointError(`cannot reach ${url}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? parseTfJson(text) : undefined;
  } catch {
    body = { error: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

/** Polls the status endpoint until a version is AVAILABLE; returns that version. */
export async function waitAvailable(
  f: typeof fetch,
  base: string,
  timeoutMs: number,
  intervalMs: number,
  signal?: AbortSignal,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (signal?.aborted) throw new SmokeAbortedError();
    const { status, body } = await call(f, base, { signal });
    const s = body as StatusResponse;
    const available = s?.model_version_status?.find(
      v => v.state === 'AVAILABLE',
    );
    if (status === 200 && available) return available.version;
    last =
      status !== 200
        ? `HTTP ${status}: ${s?.error ?? 'no error message'}`
        : (s.model_version_status ?? [])
            .map(
              v =>
                `version ${v.version} ${v.state}${v.status?.error_message ? ` (${v.status.error_message})` : ''}`,
            )
            .join(', ') || 'no versions';
    if (Date.now() >= deadline)
      throw new EndpointError(
        `model at ${base} did not become AVAILABLE within ${timeoutMs} ms; last status: ${last}`,
      );
    await sleep(intervalMs, signal);
  }
}

/** The dtype a REST output's JSON values stand for (numbers are reported as float32). */
function dtypeOf(value: unknown): 'string' | 'bool' | 'float32' {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  return 'float32';
}

function parseOutputs(body: unknown, outputNames: string[]): OutputData[] {
  const b = body as { outputs?: unknown; error?: string };
  if (b?.outputs === undefined)
    throw new EndpointError(
      `predict response has no "outputs": ${JSON.stringify(body).slice(0, 200)}`,
    );
  // With a single output tensor TF Serving omits its name.
  const map: Record<string, unknown> =
    outputNames.length === 1 &&
    (typeof b.outputs !== 'object' ||
      Array.isArray(b.outputs) ||
      b.outputs === null)
      ? { [outputNames[0]]: b.outputs }
      : (b.outputs as Record<string, unknown>);
  return Object.entries(map).map(([name, v]) => {
    const { shape, values } = flattenNested(v);
    const dtype = dtypeOf(values[0]);
    return {
      name,
      dtype,
      shape,
      values: (dtype === 'bool' ? values.map(Number) : values) as
        ArrayLike<number> | string[],
    };
  });
}

export async function runEndpointSmoke(
  o: EndpointSmokeOptions,
): Promise<SmokeReport> {
  const started = Date.now();
  const f = o.fetch ?? fetch;
  const runs = o.runs ?? 20;
  const warmupRuns = Math.max(1, o.warmupRuns ?? 2);
  const seed = o.seed ?? 42;
  const base = modelBaseUrl(o);
  const t0 = performance.now();
  const version = await waitAvailable(
    f,
    base,
    o.availableTimeoutMs ?? 30_000,
    o.pollIntervalMs ?? 500,
    o.signal,
  );
  const loadMs = performance.now() - t0;

  const meta = await call(f, `${base}/metadata`, { signal: o.signal });
  if (meta.status !== 200)
    throw new EndpointError(
      `GET ${base}/metadata: HTTP ${meta.status}: ${(meta.body as { error?: string })?.error ?? ''}`,
    );
  const defs = (
    meta.body as {
      metadata?: {
        signature_def?: {
          signature_def?: Record<string, { method_name?: string }>;
        };
      };
    }
  )?.metadata?.signature_def?.signature_def;
  if (!defs)
    throw new EndpointError(
      `GET ${base}/metadata returned no metadata.signature_def.signature_def`,
    );
  const sigName = o.signatureName || 'serving_default';
  const def = defs[sigName];
  if (!def)
    throw new EndpointError(
      `signature '${sigName}' not found at ${base}; available: ${Object.keys(defs).join(', ')}`,
    );
  if (def.method_name !== 'tensorflow/serving/predict') {
    throw new EndpointError(
      `signature '${sigName}' has method ${def.method_name}; smoke inference needs a tensorflow/serving/predict signature`,
    );
  }
  const signature = signatureFromSignatureDef(
    sigName,
    def as Parameters<typeof signatureFromSignatureDef>[1],
  );
  const { feeds, notes } = feedSpecs(
    signature,
    new Set(Object.keys(o.inputs ?? {})),
  );
  const data = buildInputs(
    feeds,
    Object.fromEntries(signature.inputs.map(i => [i.name, i.shape])),
    seed,
    o.inputs,
    { intMax: o.intMax },
  );
  const request = JSON.stringify({
    signature_name: sigName,
    inputs: Object.fromEntries(
      data.map(d => [
        d.name,
        nest(
          d.dtype === 'bool'
            ? Array.from(d.values as Uint8Array, Boolean)
            : (d.values as ArrayLike<unknown>),
          d.shape,
        ),
      ]),
    ),
  });
  const base0: Omit<
    SmokeReport,
    'timings' | 'outputs' | 'checks' | 'passed' | 'durationMs'
  > = {
    tool: 'tf-smoke',
    reportVersion: 1,
    mode: 'endpoint',
    dryRun: !!o.dryRun,
    model: {
      endpoint: redactUrl(o.endpoint),
      name: o.model,
      version,
      format: 'tf-serving',
    },
    backend: 'tf-serving',
    nativePackage: null,
    device: { kind: 'remote' },
    signature: notes.length ? { ...signature, notes } : signature,
    seed,
    inputs: data.map(d => ({
      name: d.name,
      dtype: d.dtype,
      shape: d.shape,
      source: d.source,
    })),
    startedAt: new Date(started).toISOString(),
  };
  if (o.dryRun) {
    return {
      ...base0,
      timings: {
        loadMs: Math.round(loadMs),
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
  const outputNames = signature.outputs.map(s => s.name);
  const predict = async (): Promise<OutputData[]> => {
    if (o.signal?.aborted) throw new SmokeAbortedError();
    const r = await call(f, `${base}:predict`, {
      method: 'POST',
      body: request,
      headers: { 'content-type': 'application/json' },
      signal: o.signal,
    });
    if (r.status !== 200)
      throw new EndpointError(
        `POST ${base}:predict: HTTP ${r.status}: ${(r.body as { error?: string })?.error ?? ''}`,
      );
    return parseOutputs(r.body, outputNames);
  };
  const w0 = performance.now();
  const first = await predict();
  for (let i = 1; i < warmupRuns; i++) await predict();
  const warmupMs = performance.now() - w0;
  const samples: number[] = [];
  let last: OutputData[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    last = await predict();
    samples.push(performance.now() - s);
  }
  const stats = latencyStats(samples);
  const tolerance = { ...DEFAULT_TOLERANCE, ...o.tolerance };
  const checks: CheckResult[] = [
    {
      id: 'available',
      passed: true,
      reason: `version ${version} is AVAILABLE`,
    },
    checkOutputs(signature, last),
    checkFinite(last),
    checkDeterministic(first, last, tolerance),
  ];
  if (o.latencyBudgetMs !== undefined)
    checks.push(checkLatency(stats.p95Ms, o.latencyBudgetMs));
  if (o.expectOutputs) checks.push(...checkExpectations(o.expectOutputs, last));
  return {
    ...base0,
    timings: {
      loadMs: Math.round(loadMs * 1000) / 1000,
      warmupMs: Math.round(warmupMs * 1000) / 1000,
      runs,
      ...stats,
    },
    outputs: last.map(summarise),
    checks,
    passed: checks.every(c => c.passed),
    durationMs: Date.now() - started,
  };
}
