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
import { workspacePath } from '../shared/input';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { projectName, projectOwner } from '../shared/inputProperties';
import { deriveProject, type ProjectNamingOptions } from '../shared/naming';
import { examples } from './validate.examples';
import type { DevicePolicy } from '../../smoke/backend';
import type {
  ExplicitInputs,
  OutputExpectation,
  SmokeReport,
} from '../../smoke/types';
import {
  withDefaults,
  SmokeLimitError,
  type SmokeLimits,
} from '../../smoke/limits';
import { writeFileInside } from './reportFile';
import {
  checkModelUrl,
  checkValidateInputs,
  DEFAULT_REPORT_PATH,
  DEVICES,
  FORMATS,
  MODEL_URL_MAX,
  SEED_MAX,
  SIGNATURE_NAME_MAX,
  validateOutputs,
  validationKey,
  WARMUP_RUNS_MAX,
} from './validateInputs';

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

export { DEFAULT_REPORT_PATH };

/** Carries a failing report out of the checkpoint, so that the failure is not reused on retry. */
class FailedSmoke extends Error {
  constructor(readonly report: SmokeReport) {
    super('smoke inference failed');
  }
}

/** Reads a model URL into `modelDir` through the UrlReader, with errors that say what happened. */
async function fetchModel(
  urlReader: UrlReaderService,
  modelUrl: string,
  modelDir: string,
  options: {
    limits: SmokeLimits;
    signal?: AbortSignal;
    inputs?: ExplicitInputs;
    displayPath: string;
  },
): Promise<void> {
  await fs.promises.mkdir(modelDir);
  try {
    const { fetchModelFromUrl } = await import('./fetchModel');
    await fetchModelFromUrl(urlReader, modelUrl, modelDir, options);
  } catch (e) {
    // The UrlReader refuses hosts outside backend.reading.allow (e.g. cloud metadata addresses).
    if ((e as Error)?.name === 'NotAllowedError')
      throw new NotAllowedError(`modelUrl: ${(e as Error).message}`);
    if (options.signal?.aborted)
      throw new Error(
        `tensorflow:model:validate was cancelled while reading ${options.displayPath}; nothing was written`,
      );
    throw e;
  }
}

/** What a failed validation tells the person: input errors name the field; nothing leaks a secret. */
function actionError(
  e: Error,
  fromUrl: boolean,
  engine: typeof import('../../smoke/host'),
): Error {
  const field = fromUrl ? 'modelUrl' : 'modelPath';
  if (e instanceof engine.SmokeInputError)
    return new InputError(`${e.field ? `${e.field}: ` : ''}${e.message}`);
  if (
    e instanceof engine.ModelFormatError ||
    e instanceof engine.ModelRefusedError
  )
    return new InputError(`${field}: ${engine.redactError(e).message}`);
  if (e instanceof SmokeLimitError)
    return new InputError(
      `${field}: the model was refused: ${engine.redactError(e).message}`,
    );
  return engine.redactError(e);
}

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
            .max(MODEL_URL_MAX)
            .regex(/^https?:\/\//i)
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
            .min(1)
            .optional()
            .describe('Timed inference runs. Default: 20'),
          warmupRuns: z
            .number()
            .int()
            .min(1)
            .max(WARMUP_RUNS_MAX)
            .optional()
            .describe('Untimed warm-up runs. Default: 2'),
          signatureName: z
            .string()
            .max(SIGNATURE_NAME_MAX)
            .optional()
            .describe('Signature to test. Default: serving_default'),
          seed: z
            .number()
            .int()
            .min(0)
            .max(SEED_MAX)
            .optional()
            .describe('Seed of the synthesised inputs. Default: 42'),
          latencyBudgetMs: z
            .number()
            .positive()
            .optional()
            .describe(
              'Fail when the p95 latency exceeds this many milliseconds',
            ),
          tolerance: z
            .number()
            .min(0)
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
            .regex(/\.json$/)
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
      const run = checkValidateInputs(input, defaults, ctx.workspacePath);
      const explicitInputs = input.inputs as ExplicitInputs | undefined;

      let report: SmokeReport;
      // For a URL: with its credentials (query, userinfo) redacted, for logs, audit events, outputs and the report.
      let displayPath = input.modelPath ?? 'model';
      let tempDir: string | undefined;
      try {
        let modelDir: string;
        if (input.modelUrl !== undefined) {
          const modelUrl = checkModelUrl(input.modelUrl, engine.redactUrl);
          displayPath = engine.redactUrl(modelUrl);
          tempDir = await fs.promises.mkdtemp(
            path.join(os.tmpdir(), 'tf-smoke-model-'),
          );
          modelDir = path.join(tempDir, 'model');
          await fetchModel(urlReader, modelUrl, modelDir, {
            limits,
            signal: ctx.signal,
            inputs: explicitInputs,
            displayPath,
          });
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
          inputs: explicitInputs,
        });

        const smoke = () =>
          engine.runSmokeIsolated({
            modelDir,
            displayPath,
            format: run.format,
            device: run.device,
            runs: run.runs,
            warmupRuns: run.warmupRuns,
            seed: run.seed,
            signatureName: input.signatureName,
            latencyBudgetMs: run.latencyBudgetMs,
            tolerance:
              input.tolerance !== undefined
                ? { absolute: input.tolerance }
                : undefined,
            inputs: explicitInputs,
            expectOutputs: input.expectOutputs as
              Record<string, OutputExpectation> | undefined,
            dryRun: ctx.isDryRun,
            limits,
            signal: ctx.signal,
          });
        // A retried task reuses a passing report (the repository and the catalog must tell the same
        // latencies); a failing one is re-run.
        report = ctx.isDryRun
          ? await smoke()
          : ((await ctx.checkpoint({
              key: validationKey(input, displayPath, run),
              fn: async () => {
                const r = await smoke();
                if (!r.passed) throw new FailedSmoke(r);
                return r as unknown as JsonObject;
              },
            })) as unknown as SmokeReport);
      } catch (e) {
        if (!(e instanceof FailedSmoke))
          throw actionError(e as Error, input.modelUrl !== undefined, engine);
        report = e.report;
      } finally {
        if (tempDir)
          await fs.promises.rm(tempDir, { recursive: true, force: true });
      }

      if (!ctx.isDryRun) {
        await audited(
          auditor,
          ctx,
          {
            eventId: 'model-smoke-report-written',
            severityLevel: 'low',
            meta: {
              reportPath: run.reportPath,
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
              run.reportFile,
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
      const outputs = validateOutputs(report, run.reportPath);
      for (const [k, v] of Object.entries(outputs))
        ctx.output(k as keyof typeof outputs, v as never);
      if (!report.passed)
        throw new Error(
          `${engine.failureMessage(report)}. Full report: ${run.reportPath}`,
        );
    },
  });
}
