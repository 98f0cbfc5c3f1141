import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type {
  AuditorService,
  UrlReaderService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import type { JsonObject } from '@backstage/types';
import { audited } from '../shared/audit';
import { boundedString, workspacePath } from '../shared/input';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { projectName, projectOwner } from '../shared/inputProperties';
import { deriveProject, type ProjectNamingOptions } from '../shared/naming';
import { examples } from './validate.examples';
import type { DevicePolicy } from '../../smoke/backend';
import type {
  ExplicitInputs,
  FormatOption,
  OutputExpectation,
  SmokeReport,
} from '../../smoke/types';
import {
  withDefaults,
  SmokeLimitError,
  type SmokeLimits,
} from '../../smoke/limits';
import { writeFileInside } from './reportFile';

/** Defaults from the `tensorflow.smoke` config section (module.ts parses and injects them). */
export interface SmokeDefaults {
  device?: DevicePolicy;
  runs?: number;
  maxRuns?: number;
  warmupRuns?: number;
  latencyBudgetMs?: number;
  /** `tensorflow.smoke.limits`: what a model may use (defaults: DEFAULT_LIMITS in smoke/limits.ts). */
  limits?: Partial<SmokeLimits>;
}

export interface ModelValidateActionOptions {
  /** Backstage's UrlReader: the only way a model URL is read, so backend.reading.allow applies. */
  urlReader: UrlReaderService;
  auditor: AuditorService;
  defaults?: SmokeDefaults;
  naming: ProjectNamingOptions;
  /** Who may act on which project: the one check every action makes first. */
  projectAccess: ProjectAccess;
}

export const MODEL_VALIDATE_ACTION_ID = 'tensorflow:model:validate';

const DEVICES = ['any', 'gpu', 'cpu'] as const;
const FORMATS = ['auto', 'layers-model', 'graph-model', 'saved-model'] as const;
export const DEFAULT_REPORT_PATH = 'smoke-report.json';

/** Carries a failing report out of the checkpoint, so that the failure is not reused on retry. */
class FailedSmoke extends Error {
  constructor(readonly report: SmokeReport) {
    super('smoke inference failed');
  }
}

const positiveInt = (
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
 * Runs a smoke inference on the model in the workspace (or at a URL) and writes the report into
 * the workspace.
 * @public
 */
export function createModelValidateAction(options: ModelValidateActionOptions) {
  const { urlReader, auditor, defaults = {}, naming, projectAccess } = options;
  const limits = withDefaults(defaults.limits);
  return createTemplateAction({
    id: MODEL_VALIDATE_ACTION_ID,
    description:
      'Validates a TensorFlow model with a smoke inference (signature, output shapes, finite values, determinism, tensor leaks, latency) and writes the report into the workspace.',
    examples: examples(),
    supportsDryRun: true,
    schema: {
      input: z =>
        z.object({
          name: projectName(z),
          owner: projectOwner(z),
          modelPath: z
            .string()
            .optional()
            .describe(
              'Workspace-relative model folder (saved_model.pb, or model.json + shards). Default: "model"',
            ),
          modelUrl: z
            .string()
            .optional()
            .describe(
              "URL of a model folder or of its model.json, read through Backstage's UrlReader (backend.reading.allow applies). Instead of modelPath.",
            ),
          format: z
            .enum(FORMATS)
            .optional()
            .describe('Model format; default "auto" detects it from the files'),
          device: z
            .enum(DEVICES)
            .optional()
            .describe(
              'any (GPU if available), gpu (fail without one) or cpu. Default: any',
            ),
          runs: z
            .number()
            .int()
            .optional()
            .describe('Timed inference runs. Default: 20'),
          warmupRuns: z
            .number()
            .int()
            .optional()
            .describe('Untimed warm-up runs. Default: 2'),
          signatureName: z
            .string()
            .optional()
            .describe('Signature to test. Default: serving_default'),
          seed: z
            .number()
            .int()
            .optional()
            .describe('Seed of the synthesised inputs. Default: 42'),
          latencyBudgetMs: z
            .number()
            .optional()
            .describe(
              'Fail when the p95 latency exceeds this many milliseconds',
            ),
          tolerance: z
            .number()
            .optional()
            .describe(
              'Absolute tolerance for two runs on the same input to agree. Default: 1e-5',
            ),
          inputs: z
            .record(
              z.object({
                values: z.array(z.any()),
                shape: z.array(z.number().int()).optional(),
              }),
            )
            .optional()
            .describe(
              'Explicit input values per signature input name, e.g. { "features": { "values": [[0.1, 0.2, 0.3, 0.4]] } }; others are synthesised',
            ),
          expectOutputs: z
            .record(
              z.object({
                shape: z.array(z.number().int()).optional(),
                min: z.number().optional(),
                max: z.number().optional(),
              }),
            )
            .optional()
            .describe(
              'Expected shape (-1 = any) and value range per output name',
            ),
          reportPath: z
            .string()
            .optional()
            .describe(
              `Workspace-relative path of the JSON report. Default: ${DEFAULT_REPORT_PATH}`,
            ),
        }),
      output: z =>
        z.object({
          format: z
            .string()
            .describe('layers-model, graph-model or saved-model'),
          backend: z
            .string()
            .describe('tfjs backend used: tensorflow (native), wasm or cpu'),
          device: z.string().describe('gpu or cpu'),
          p50Ms: z
            .number()
            .nullable()
            .describe('Median latency in ms (null in dry run)'),
          p95Ms: z
            .number()
            .nullable()
            .describe('95th percentile latency in ms (null in dry run)'),
          passed: z.boolean().describe('Whether every check passed'),
          reportPath: z
            .string()
            .describe('Workspace-relative path of the report'),
          signature: z
            .object({
              name: z.string(),
              inputs: z.array(
                z.object({
                  name: z.string(),
                  dtype: z.string(),
                  shape: z.array(z.number()).nullable(),
                }),
              ),
              outputs: z.array(
                z.object({
                  name: z.string(),
                  dtype: z.string(),
                  shape: z.array(z.number()).nullable(),
                }),
              ),
            })
            .describe(
              'Model signature: inputs and outputs with dtypes and shapes (-1 = unknown)',
            ),
        }),
    },
    async handler(ctx) {
      const engine = await import('../../smoke/host'); // the engine's host side loads on the first validation
      const input = ctx.input;
      const project = deriveProject(
        { name: input.name, owner: input.owner },
        naming,
      );
      // Before any read: a model URL is read with the integration's credentials on the project's behalf.
      // Validation writes only to the workspace, so it checks the claim but never makes one.
      await authorizeProject(projectAccess, ctx, project, {
        action: MODEL_VALIDATE_ACTION_ID,
        mode: 'check',
      });
      if (input.modelPath !== undefined && input.modelUrl !== undefined) {
        throw new InputError(
          'give either modelPath (a workspace folder) or modelUrl, not both',
        );
      }
      const device = input.device ?? defaults.device ?? 'any';
      if (!DEVICES.includes(device))
        throw new InputError(
          `device must be one of ${DEVICES.join(', ')}, got "${device}"`,
        );
      const format = input.format ?? 'auto';
      if (!FORMATS.includes(format))
        throw new InputError(
          `format must be one of ${FORMATS.join(', ')}, got "${format}"`,
        );
      const maxRuns = defaults.maxRuns ?? 200;
      const runs =
        positiveInt('runs', input.runs, 1, maxRuns) ??
        Math.min(defaults.runs ?? 20, maxRuns);
      const warmupRuns =
        positiveInt('warmupRuns', input.warmupRuns, 1, 100) ??
        defaults.warmupRuns ??
        2;
      const seed = positiveInt('seed', input.seed, 0, 2 ** 31 - 1) ?? 42;
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
        ctx.workspacePath,
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
          256,
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

      let report: SmokeReport;
      let modelDir: string;
      // For a URL: with its credentials (query, userinfo) redacted, for logs, audit events, outputs and the report.
      let displayPath = input.modelPath ?? 'model';
      let tempDir: string | undefined;
      try {
        if (input.modelUrl !== undefined) {
          const modelUrl = boundedString(
            'modelUrl',
            input.modelUrl,
            2048,
            'https://models.example.com/fraud-detector/model.json',
          );
          let parsed: URL;
          try {
            parsed = new URL(modelUrl);
          } catch {
            throw new InputError(
              `modelUrl "${engine.redactUrl(modelUrl).slice(0, 80)}" is not a URL; give an http(s) URL of a model folder or model.json`,
            );
          }
          if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
            throw new InputError(
              `modelUrl must be an http(s) URL, got "${engine.redactUrl(modelUrl).slice(0, 80)}"`,
            );
          displayPath = engine.redactUrl(modelUrl);
          tempDir = await fs.promises.mkdtemp(
            path.join(os.tmpdir(), 'tf-smoke-model-'),
          );
          modelDir = path.join(tempDir, 'model');
          await fs.promises.mkdir(modelDir);
          try {
            const { fetchModelFromUrl } = await import('./fetchModel');
            await fetchModelFromUrl(urlReader, modelUrl, modelDir, {
              limits,
              signal: ctx.signal,
              inputs: input.inputs as ExplicitInputs | undefined,
            });
          } catch (e) {
            // The UrlReader refuses hosts outside backend.reading.allow (e.g. cloud metadata addresses).
            if ((e as Error)?.name === 'NotAllowedError')
              throw new NotAllowedError(`modelUrl: ${(e as Error).message}`);
            if (ctx.signal?.aborted)
              throw new Error(
                `tensorflow:model:validate was cancelled while reading ${displayPath}; nothing was written`,
              );
            throw e;
          }
        } else {
          modelDir = workspacePath(
            'modelPath',
            ctx.workspacePath,
            displayPath,
            'model',
          );
        }

        // Refuse before reading further: sizes, shard count, inputs, links out of the folder.
        engine.preflightLocal(modelDir, {
          limits,
          within: tempDir ?? ctx.workspacePath,
          inputs: input.inputs as ExplicitInputs | undefined,
        });

        const smoke = () =>
          engine.runSmokeIsolated({
            modelDir,
            displayPath,
            format: format as FormatOption,
            device,
            runs,
            warmupRuns,
            seed,
            signatureName: input.signatureName,
            latencyBudgetMs,
            tolerance:
              input.tolerance !== undefined
                ? { absolute: input.tolerance }
                : undefined,
            inputs: input.inputs as ExplicitInputs | undefined,
            expectOutputs: input.expectOutputs as
              Record<string, OutputExpectation> | undefined,
            dryRun: ctx.isDryRun,
            limits,
            signal: ctx.signal,
          });
        // A retried task reuses a passing report (the repository and the catalog must tell the same
        // latencies); a failing one is re-run. Keyed by everything that shapes the report.
        const key = `tensorflow.model.validate.v1.${createHash('sha256')
          .update(
            JSON.stringify([
              input.modelUrl ?? displayPath,
              format,
              device,
              runs,
              warmupRuns,
              seed,
              input.signatureName ?? null,
              latencyBudgetMs ?? null,
              input.tolerance ?? null,
              input.inputs ?? null,
              input.expectOutputs ?? null,
              reportPath,
            ]),
          )
          .digest('hex')
          .slice(0, 16)}`;
        report = ctx.isDryRun
          ? await smoke()
          : ((await ctx.checkpoint({
              key,
              fn: async () => {
                const r = await smoke();
                if (!r.passed) throw new FailedSmoke(r);
                return r as unknown as JsonObject;
              },
            })) as unknown as SmokeReport);
      } catch (e) {
        const field = input.modelUrl !== undefined ? 'modelUrl' : 'modelPath';
        if (e instanceof FailedSmoke) report = e.report;
        else if (e instanceof engine.SmokeInputError)
          throw new InputError(`${e.field ? `${e.field}: ` : ''}${e.message}`);
        else if (
          e instanceof engine.ModelFormatError ||
          e instanceof engine.ModelRefusedError
        )
          throw new InputError(`${field}: ${engine.redactError(e).message}`);
        else if (e instanceof SmokeLimitError)
          throw new InputError(
            `${field}: the model was refused: ${engine.redactError(e).message}`,
          );
        else throw engine.redactError(e);
      } finally {
        if (tempDir)
          await fs.promises.rm(tempDir, { recursive: true, force: true });
      }

      const outputs = {
        format: report.model.format,
        backend: report.backend,
        device: report.device.kind,
        p50Ms: report.timings.p50Ms,
        p95Ms: report.timings.p95Ms,
        passed: report.passed,
        reportPath,
        signature: {
          name: report.signature.name,
          inputs: report.signature.inputs.map(({ name, dtype, shape }) => ({
            name,
            dtype,
            shape,
          })),
          outputs: report.signature.outputs.map(({ name, dtype, shape }) => ({
            name,
            dtype,
            shape,
          })),
        },
      };
      if (!ctx.isDryRun) {
        await audited(
          auditor,
          ctx,
          {
            eventId: 'model-smoke-report-written',
            severityLevel: 'low',
            meta: {
              reportPath,
              model: displayPath,
              format: report.model.format,
              backend: report.backend,
              device: report.device.kind,
              passed: report.passed,
            },
          },
          () =>
            writeFileInside(
              ctx.workspacePath,
              reportFile,
              `${JSON.stringify(report, null, 2)}\n`,
            ),
          (): JsonObject => ({
            failedChecks: report.checks.filter(c => !c.passed).map(c => c.id),
          }),
        );
      }
      ctx.logger.info(
        `Smoke inference of ${displayPath}: ${report.model.format} on ${report.backend}/${report.device.kind}${
          ctx.isDryRun
            ? ' (dry run: signature only)'
            : `, p50 ${report.timings.p50Ms} ms, p95 ${report.timings.p95Ms} ms, ${report.passed ? 'passed' : 'FAILED'}`
        }`,
      );
      for (const [k, v] of Object.entries(outputs))
        ctx.output(k as keyof typeof outputs, v as never);
      if (!report.passed)
        throw new Error(
          `${engine.failureMessage(report)}. Full report: ${reportPath}`,
        );
    },
  });
}
