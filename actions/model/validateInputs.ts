import { createHash } from 'node:crypto';
import { InputError } from '@backstage/errors';
import { boundedString, workspacePath } from '../shared/input';
import type { DevicePolicy } from '../../smoke/backend';
import type { FormatOption, SmokeReport } from '../../smoke/types';

export const DEVICES = ['any', 'gpu', 'cpu'] as const;
export const FORMATS = [
  'auto',
  'layers-model',
  'graph-model',
  'saved-model',
] as const;
export const DEFAULT_REPORT_PATH = 'smoke-report.json';
export const MODEL_URL_MAX = 2048;
export const SIGNATURE_NAME_MAX = 256;
export const WARMUP_RUNS_MAX = 100;
export const SEED_MAX = 2 ** 31 - 1;

/** The validate action's input, as the scaffolder hands it over. */
export interface ValidateInput {
  modelPath?: string;
  modelUrl?: string;
  format?: string;
  device?: string;
  runs?: number;
  warmupRuns?: number;
  signatureName?: string;
  seed?: number;
  latencyBudgetMs?: number;
  tolerance?: number;
  inputs?: unknown;
  expectOutputs?: unknown;
  reportPath?: string;
}

/** Defaults from the `tensorflow.smoke` config section that shape one run. */
export interface RunDefaults {
  device?: DevicePolicy;
  runs?: number;
  maxRuns?: number;
  warmupRuns?: number;
  latencyBudgetMs?: number;
}

/** One validation run, with every default applied and every limit checked. */
export interface ValidateRun {
  device: DevicePolicy;
  format: FormatOption;
  runs: number;
  warmupRuns: number;
  seed: number;
  latencyBudgetMs?: number;
  reportPath: string;
  /** Absolute path of the report inside the workspace. */
  reportFile: string;
}

const wholeNumber = (
  field: string,
  v: unknown,
  min: number,
  max: number,
): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InputError(
      `${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
};

/**
 * Checks the input the schema cannot (defaults from config, workspace paths, either/or fields)
 * and again what it can, with messages that name the field and the fix: the handler is also
 * called without the scaffolder's schema check (tests, other callers).
 */
export function checkValidateInputs(
  input: ValidateInput,
  defaults: RunDefaults,
  workspace: string,
): ValidateRun {
  if (input.modelPath !== undefined && input.modelUrl !== undefined) {
    throw new InputError(
      'give either modelPath (a workspace folder) or modelUrl, not both',
    );
  }
  const device = input.device ?? defaults.device ?? 'any';
  if (!(DEVICES as readonly string[]).includes(device))
    throw new InputError(
      `device must be one of ${DEVICES.join(', ')}, got "${device}"`,
    );
  const format = input.format ?? 'auto';
  if (!(FORMATS as readonly string[]).includes(format))
    throw new InputError(
      `format must be one of ${FORMATS.join(', ')}, got "${format}"`,
    );
  const maxRuns = defaults.maxRuns ?? 200;
  const runs =
    wholeNumber('runs', input.runs, 1, maxRuns) ??
    Math.min(defaults.runs ?? 20, maxRuns);
  const warmupRuns =
    wholeNumber('warmupRuns', input.warmupRuns, 1, WARMUP_RUNS_MAX) ??
    defaults.warmupRuns ??
    2;
  const seed = wholeNumber('seed', input.seed, 0, SEED_MAX) ?? 42;
  const latencyBudgetMs = input.latencyBudgetMs ?? defaults.latencyBudgetMs;
  if (latencyBudgetMs !== undefined && !(latencyBudgetMs > 0))
    throw new InputError(
      'latencyBudgetMs must be a positive number of milliseconds',
    );
  if (input.tolerance !== undefined && !(input.tolerance >= 0))
    throw new InputError('tolerance must be a number ≥ 0');
  const reportPath = input.reportPath ?? DEFAULT_REPORT_PATH;
  const reportFile = workspacePath(
    'reportPath',
    workspace,
    reportPath,
    DEFAULT_REPORT_PATH,
  );
  if (!reportPath.endsWith('.json'))
    throw new InputError(
      `reportPath "${reportPath.slice(0, 80)}" must end in .json, e.g. "${DEFAULT_REPORT_PATH}"`,
    );
  if (input.signatureName !== undefined)
    boundedString(
      'signatureName',
      input.signatureName,
      SIGNATURE_NAME_MAX,
      'serving_default',
    );
  for (const [field, value] of [
    ['inputs', input.inputs],
    ['expectOutputs', input.expectOutputs],
  ] as const) {
    if (
      value !== undefined &&
      (typeof value !== 'object' || value === null || Array.isArray(value))
    ) {
      throw new InputError(
        `${field} must be an object keyed by tensor name, e.g. { "features": { "values": [[0.1, 0.2]] } }`,
      );
    }
  }
  return {
    device: device as DevicePolicy,
    format: format as FormatOption,
    runs,
    warmupRuns,
    seed,
    latencyBudgetMs,
    reportPath,
    reportFile,
  };
}

/** An http(s) model URL, or a clear error that never shows the URL's credentials. */
export function checkModelUrl(
  value: string,
  redactUrl: (url: string) => string,
): string {
  const modelUrl = boundedString(
    'modelUrl',
    value,
    MODEL_URL_MAX,
    'https://models.example.com/fraud-detector/model.json',
  );
  let parsed: URL;
  try {
    parsed = new URL(modelUrl);
  } catch {
    throw new InputError(
      `modelUrl "${redactUrl(modelUrl).slice(0, 80)}" is not a URL; give an http(s) URL of a model folder or model.json`,
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new InputError(
      `modelUrl must be an http(s) URL, got "${redactUrl(modelUrl).slice(0, 80)}"`,
    );
  return modelUrl;
}

/** The checkpoint key of a run: everything that shapes the report. */
export function validationKey(
  input: ValidateInput,
  displayPath: string,
  run: ValidateRun,
): string {
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        input.modelUrl ?? displayPath,
        run.format,
        run.device,
        run.runs,
        run.warmupRuns,
        run.seed,
        input.signatureName ?? null,
        run.latencyBudgetMs ?? null,
        input.tolerance ?? null,
        input.inputs ?? null,
        input.expectOutputs ?? null,
        run.reportPath,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  return `tensorflow.model.validate.v1.${digest}`;
}

/** The action's outputs for a report. */
export function validateOutputs(report: SmokeReport, reportPath: string) {
  const tensor = ({
    name,
    dtype,
    shape,
  }: SmokeReport['signature']['inputs'][number]) => ({
    name,
    dtype,
    shape,
  });
  return {
    format: report.model.format,
    backend: report.backend,
    device: report.device.kind,
    p50Ms: report.timings.p50Ms,
    p95Ms: report.timings.p95Ms,
    passed: report.passed,
    reportPath,
    signature: {
      name: report.signature.name,
      inputs: report.signature.inputs.map(tensor),
      outputs: report.signature.outputs.map(tensor),
    },
  };
}
