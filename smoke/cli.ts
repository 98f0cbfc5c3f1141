#!/usr/bin/env node
/**
 * tf-smoke: the smoke engine on the command line.
 *   tf-smoke <model-dir> [--device any|gpu|cpu] [--runs 20] [--json]
 *   tf-smoke --endpoint URL --model NAME [--version N] [--runs 20] [--json]
 * Exit code: 0 all checks passed, 1 a check failed, 2 usage error or the model could not be run.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { DevicePolicy, JsBackend } from './backend';
import { runEndpointSmoke } from './endpoint';
import {
  DEFAULT_LIMITS,
  LIMIT_KEYS,
  limitFlag,
  limitProblem,
  withDefaults,
  type SmokeLimits,
} from './limits';
import { preflightLocal } from './preflight';
import { redactText } from './redact';
import { formatReport } from './report';
import { runSmokeIsolated } from './sandbox';
import type { ExplicitInputs, FormatOption, SmokeReport } from './types';

const LIMIT_HELP: Record<keyof SmokeLimits, string> = {
  wallMs: 'wall time of the run, ms',
  memoryMb: 'resident memory of the runner, MiB',
  maxModelJsonBytes: 'size of model.json',
  maxWeightBytes: 'weight bytes (declared = present)',
  maxShards: 'weight shard files',
  maxInputBytes: 'bytes of the input tensors',
  maxOutputBytes: 'size of the result (report JSON)',
};
const limitUsage = LIMIT_KEYS.map(
  k =>
    `  --${`${limitFlag(k)} N`.padEnd(26)}${LIMIT_HELP[k]} (default ${DEFAULT_LIMITS[k]})`,
).join('\n');

export const USAGE = `usage: tf-smoke <model-dir> [options]
       tf-smoke --endpoint URL --model NAME [--version N] [options]
options:
  --device any|gpu|cpu        device policy (default any)
  --backend auto|wasm|cpu     pure-JS backend when no native package is installed (default auto)
  --format auto|layers-model|graph-model|saved-model
  --runs N                    timed runs (default 20)
  --warmup N                  warm-up runs (default 2)
  --signature NAME            signature (default serving_default)
  --seed N                    seed of the synthesised inputs (default 42)
  --inputs FILE               JSON file: { "<input>": { "values": [...], "shape": [...] } }
  --budget-ms N               fail when p95 latency exceeds N ms
  --dry-run                   read the signature only
  --json                      print the full report as JSON
limits (the model runs in a child process, killed on a breach; same as tensorflow.smoke.limits.*):
${limitUsage}`;

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  signal?: AbortSignal;
}

class UsageError extends Error {}
const num = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
};

export async function main(argv: string[], io: CliIo): Promise<number> {
  let report: SmokeReport;
  let json = false;
  try {
    const { values: v, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        device: { type: 'string' },
        backend: { type: 'string' },
        format: { type: 'string' },
        runs: { type: 'string' },
        warmup: { type: 'string' },
        signature: { type: 'string' },
        seed: { type: 'string' },
        inputs: { type: 'string' },
        'budget-ms': { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        endpoint: { type: 'string' },
        model: { type: 'string' },
        version: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          LIMIT_KEYS.map(k => [limitFlag(k), { type: 'string' as const }]),
        ),
      },
    });
    if (v.help) {
      io.stdout(USAGE);
      return 0;
    }
    json = !!v.json;
    const device = (v.device ?? 'any') as DevicePolicy;
    if (!['any', 'gpu', 'cpu'].includes(device))
      throw new UsageError(
        `--device must be any, gpu or cpu, got '${v.device}'`,
      );
    const jsBackend = (v.backend ?? 'auto') as JsBackend;
    if (!['auto', 'wasm', 'cpu'].includes(jsBackend))
      throw new UsageError(`--backend must be auto, wasm or cpu`);
    const limits: Partial<SmokeLimits> = {};
    for (const k of LIMIT_KEYS) {
      const raw = (v as Record<string, string | boolean | undefined>)[
        limitFlag(k)
      ];
      if (raw === undefined) continue;
      const n = Number(raw);
      const problem = limitProblem(k, n);
      if (problem)
        throw new UsageError(
          `--${limitFlag(k)} ${problem.replace(/^is [^;]+/, `is '${raw}'`)}`,
        );
      limits[k] = n;
    }
    const inputs = v.inputs
      ? (JSON.parse(fs.readFileSync(v.inputs, 'utf8')) as ExplicitInputs)
      : undefined;
    const common = {
      runs: num('runs', v.runs),
      warmupRuns: num('warmup', v.warmup),
      signatureName: v.signature,
      seed: num('seed', v.seed),
      inputs,
      latencyBudgetMs: num('budget-ms', v['budget-ms']),
      dryRun: !!v['dry-run'],
      signal: io.signal,
    };
    if (v.endpoint) {
      if (!v.model) throw new UsageError('--endpoint needs --model NAME');
      if (positionals.length)
        throw new UsageError('give either <model-dir> or --endpoint, not both');
      report = await runEndpointSmoke({
        ...common,
        endpoint: v.endpoint,
        model: v.model,
        version: v.version,
      });
    } else {
      if (positionals.length !== 1)
        throw new UsageError(
          'give one <model-dir> (or --endpoint URL --model NAME)',
        );
      const all = withDefaults(limits);
      preflightLocal(positionals[0], { limits: all, inputs });
      report = await runSmokeIsolated({
        ...common,
        modelDir: positionals[0],
        displayPath: positionals[0],
        device,
        jsBackend,
        format: (v.format ?? 'auto') as FormatOption,
        limits: all,
      });
    }
  } catch (e) {
    const err = e as Error;
    if (json)
      io.stdout(
        JSON.stringify(
          { error: { name: err.name, message: redactText(err.message) } },
          null,
          2,
        ),
      );
    io.stderr(
      `tf-smoke: ${redactText(err.message)}${e instanceof UsageError || err.name === 'TypeError' ? `\n${USAGE}` : ''}`,
    );
    return 2;
  }
  io.stdout(json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.passed ? 0 : 1;
}

if (require.main === module) {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  main(process.argv.slice(2), {
    stdout: s => process.stdout.write(`${s}\n`),
    stderr: s => process.stderr.write(`${s}\n`),
    signal: ac.signal,
  }).then(
    code => (process.exitCode = code),
    e => {
      process.stderr.write(`tf-smoke: ${(e as Error).stack}\n`);
      process.exitCode = 2;
    },
  );
}
