import fs from 'node:fs/promises';
import {
  resolveSafeChildPath,
  type AuditorService,
} from '@backstage/backend-plugin-api';
import { stringifyLocationRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { AccessPolicy } from '../access/config';
import type { GatewayConfig } from '../gateway/config';
import { accessLogUrl } from '../gateway/visibility';
import { assertRepositoryBound } from '../access/binding';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { audited } from '../shared/audit';
import { projectName, projectOwner } from '../shared/inputProperties';
import { initiatorAuthor } from '../shared/initiator';
import {
  DEFAULT_OWNER_KINDS,
  deriveProject,
  type ProjectNamingOptions,
} from '../shared/naming';
import type {
  CatalogLocationSpec,
  RepositoryPublisher,
} from '../repository/types';
import type { CatalogConfig } from './config';
import { buildCatalogEntities } from './buildEntities';
import type { ServingInfo, SmokeSummary } from './entities';
import {
  checkIdentity,
  checkRegisterText,
  checkRepoUrl,
  checkServing,
  checkSmoke,
  checkStepOutputs,
  checkUrl,
  GIT_BRANCH,
  GIT_COMMIT,
  githubSlug,
  GRPC_ADDRESS,
  LIFECYCLE_INPUT,
  orEmpty,
  REGISTER_LIMITS as L,
  provisioningDetails,
  resolveSignature,
} from './inputs';
import { catalogEntityNames } from './names';
import type { ModelSignature } from './signature';
import { verifyOwner } from './owner';
import { validateEntities } from './validate';
import {
  PROVISIONING_RECORD_FILE,
  serialiseProvisioningRecord,
} from './provisioning';
import { addOrRefreshLocation, refuseSteal, waitForEntities } from './wait';
import { registerOutputs, serialiseEntities } from './outputs';
import { examples } from './register.examples';

export const CATALOG_REGISTER_ACTION_ID = 'tensorflow:catalog:register';
export const CATALOG_INFO_FILE = 'catalog-info.yaml';

export interface CatalogRegisterActionOptions {
  catalog: CatalogService;
  /** Repository publishers; the one that `handles(repoUrl)` commits catalog-info.yaml. */
  publishers: RepositoryPublisher[];
  auditor: AuditorService;
  /** Project naming: namespace prefix and the one owner rule (ownerKinds). */
  naming: ProjectNamingOptions;
  catalogConfig: CatalogConfig;
  /** Who may act on which project: the one check every action makes first. */
  projectAccess: ProjectAccess;
  /** App base URL for links, e.g. `https://backstage.example.com`. */
  baseUrl: string;
  /**
   * The access policy: when given, identity.grants must hold only known scopes the policy
   * lets each group have (the identity step's output always does).
   */
  access?: AccessPolicy;
  /** The gateway config: its accessLogUrlTemplate gives the endpoint entity its "Access records" link. */
  gateway?: Pick<GatewayConfig, 'accessLogUrlTemplate'>;
  /** Poll interval while waiting for the entities (default 500 ms). */
  pollIntervalMs?: number;
}

export function createCatalogRegisterAction(
  options: CatalogRegisterActionOptions,
) {
  const { catalog, publishers, auditor, naming, catalogConfig, baseUrl } =
    options;
  const { projectAccess } = options;
  const intervalMs = options.pollIntervalMs ?? 500;

  return createTemplateAction({
    id: CATALOG_REGISTER_ACTION_ID,
    description:
      'Registers the model project in the catalog: repository Component, model Resource, and (with serving) the endpoint Component, its OpenAPI API and the service account Resource, owned by a verified group.',
    examples: examples(),
    supportsDryRun: true,
    schema: {
      input: z => {
        const tensor = z.object({
          name: z.string({ description: 'Signature key of the tensor' }),
          dtype: z.string({
            description: 'tfjs or TF dtype, e.g. float32 / DT_FLOAT',
          }),
          shape: z
            .array(z.number().int().nullable())
            .nullable()
            .optional()
            .describe('-1/null = unknown size; null = unknown rank'),
          tensorName: z.string().optional(),
        });
        return z.object({
          name: projectName(z),
          owner: projectOwner(z),
          description: z
            .string({
              description: `One-line description of the model (at most ${L.description} characters)`,
            })
            .min(1)
            .max(L.description),
          system: z
            .string({
              description:
                'System entity ref or name, e.g. "system:default/fraud" or "fraud"',
            })
            .max(L.system)
            .optional(),
          lifecycle: z
            .string({
              description:
                'Lifecycle: letters and digits joined by - _ ., e.g. "experimental"; empty: tensorflow.catalog.defaultLifecycle',
            })
            .max(L.lifecycle)
            .regex(LIFECYCLE_INPUT)
            .optional(),
          repoUrl: z
            .string({
              description:
                'Repository of the model project (local?repo=x or github.com?owner=o&repo=x)',
            })
            .min(1)
            .max(L.repoUrl),
          repoContentsUrl: z
            .string({
              description:
                'Browsable URL of the repository (publish step output)',
            })
            .max(L.url)
            .optional(),
          model: z
            .object({
              signature: z
                .object({
                  name: z.string().optional(),
                  methodName: z.string().optional(),
                  inputs: z.array(tensor),
                  outputs: z.array(tensor),
                  notes: z.array(z.string()).optional(),
                })
                .optional()
                .describe('Model signature from the validate step'),
              smoke: z
                .object({
                  backend: z.string().min(1).max(200),
                  device: z.string().min(1).max(200),
                  p50Ms: z.number().min(0).nullable().optional(),
                  date: z
                    .string()
                    .min(1)
                    .max(200)
                    .optional()
                    .describe('ISO-8601 time; default: the task time'),
                })
                .optional()
                .describe('Smoke report summary'),
            })
            .optional(),
          serving: z
            .object({
              namespace: z
                .string()
                .max(63)
                .describe(
                  "The serving step's namespace output (the project namespace)",
                ),
              restUrl: z
                .string()
                .url()
                .max(L.url)
                .describe('In-cluster REST URL (http or https)'),
              grpcUrl: z
                .string()
                .regex(GRPC_ADDRESS)
                .optional()
                .describe(
                  'In-cluster gRPC address, e.g. "x.ns.svc.cluster.local:8500"',
                ),
              gatewayUrl: z.string().max(L.url).optional(),
              gitopsUrl: z.string().max(L.url).optional(),
              gitopsBranch: z
                .string()
                .regex(orEmpty(GIT_BRANCH))
                .optional()
                .describe("The serving step's branch output"),
              gitopsCommit: z
                .string()
                .regex(orEmpty(GIT_COMMIT))
                .optional()
                .describe("The serving step's commit output"),
            })
            .optional()
            .describe(
              'Serving step outputs; without it only the repository and model are registered',
            ),
          identity: z
            .object({
              serviceAccount: z
                .union([
                  z.string().max(255),
                  z.object({
                    namespace: z.string().max(63),
                    name: z.string().max(63),
                    ref: z.string().max(255).optional(),
                  }),
                ])
                .describe(
                  "The identity step's serviceAccount output ({ namespace, name, ref }) or the account name",
                ),
              grants: z
                .record(z.array(z.string()))
                .optional()
                .describe('Group ref -> scopes'),
              identities: z
                .object({
                  provider: z.string(),
                  principal: z.string().optional(),
                  resources: z.array(z.string()),
                })
                .optional()
                .describe(
                  "The identity step's identities output (recorded in the provisioning record)",
                ),
              gitops: z
                .object({
                  branch: z.string().optional(),
                  commit: z.string().optional(),
                  url: z.string().optional(),
                })
                .passthrough()
                .optional()
                .describe(
                  "The identity step's gitops output (recorded in the provisioning record)",
                ),
            })
            .optional(),
        });
      },
      output: z =>
        z.object({
          entityRefs: z.array(z.string()),
          repoEntityRef: z.string(),
          modelEntityRef: z.string(),
          endpointEntityRef: z.string().optional(),
          apiEntityRef: z.string().optional(),
          serviceAccountEntityRef: z.string().optional(),
          repoEntityUrl: z.string(),
          modelEntityUrl: z.string(),
          endpointEntityUrl: z.string().optional(),
          apiEntityUrl: z.string().optional(),
          catalogLocation: z.string(),
          entities: z.array(z.record(z.any())),
        }),
    },
    async handler(ctx) {
      const input = ctx.input;
      const project = deriveProject(
        { name: input.name, owner: input.owner },
        naming,
      );
      const { description, lifecycle, system } = checkRegisterText(
        input,
        catalogConfig.defaultLifecycle,
      );
      const { repoUrl, publisher } = checkRepoUrl(input.repoUrl, publishers);
      const contentsUrl = input.repoContentsUrl
        ? checkUrl('repoContentsUrl', input.repoContentsUrl, [
            'http:',
            'https:',
            'file:',
          ])
        : undefined;
      const serving = input.serving
        ? checkServing(input.serving as ServingInfo, project)
        : undefined;
      checkStepOutputs(input);
      const identity = checkIdentity(input.identity, project, options.access);
      const names = catalogEntityNames(project);
      const credentials = await ctx.getInitiatorCredentials();

      // Ownership: the owner exists, the initiator may act for it on this project, and the
      // repository is the one bound to this project.
      await verifyOwner({
        catalog,
        credentials,
        ownerRef: project.owner,
        ownerKinds: naming.ownerKinds ?? DEFAULT_OWNER_KINDS,
      });

      // The signature: from input, else from the model entity registered earlier.
      const signature = await resolveSignature(
        input.model?.signature as ModelSignature | undefined,
        serving ? { catalog, credentials, names } : undefined,
      );

      const taskUrl = `${baseUrl.replace(/\/+$/, '')}/create/tasks/${encodeURIComponent(ctx.task.id)}`;
      const at = ctx.isDryRun
        ? new Date().toISOString()
        : await ctx.checkpoint({
            key: `catalog.register.v1.provisioned-at.${project.name}`,
            fn: () => new Date().toISOString(),
          });

      const smoke = checkSmoke(
        input.model?.smoke as Partial<SmokeSummary> | undefined,
        at,
      );
      const built = buildCatalogEntities({
        project,
        names,
        description,
        system,
        lifecycle,
        repo: { repoUrl, contentsUrl, githubSlug: githubSlug(repoUrl) },
        model: { signature, smoke },
        serving,
        identity,
        accessLogUrl:
          serving && options.gateway
            ? accessLogUrl(project, options.gateway)
            : undefined,
        provenance: { initiator: ctx.user?.ref ?? 'unknown', at, taskUrl },
        rhdh: { aiModelServerApi: catalogConfig.rhdhAiModelServerApi },
      });
      await validateEntities(built.entities);

      // Every input is checked; before anything is written, the one project check, then the repository's binding.
      await authorizeProject(projectAccess, ctx, project, {
        action: CATALOG_REGISTER_ACTION_ID,
        mode: 'use',
      });
      const repository = await publisher.readRecord(repoUrl);
      if (!repository.exists && !ctx.isDryRun) {
        throw new InputError(
          `repoUrl "${repoUrl.slice(0, 120)}" names no repository yet; publish the project (tensorflow:repository:publish) before registering it`,
        );
      }
      assertRepositoryBound(
        repository,
        { project: project.name, owner: project.owner },
        { repoUrl: repoUrl, action: CATALOG_REGISTER_ACTION_ID },
      );

      const location: CatalogLocationSpec = publisher.catalogLocation(
        repoUrl,
        CATALOG_INFO_FILE,
      );
      const origin = stringifyLocationRef(location);
      await refuseSteal(
        catalog,
        credentials,
        built.entities,
        origin,
        project.owner,
      );

      const outputs = registerOutputs(built, baseUrl, origin);
      const entityRefs = outputs.entityRefs;
      const emit = () =>
        Object.entries(outputs).forEach(([name, value]) =>
          ctx.output(name as keyof typeof outputs, value as never),
        );

      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would register ${entityRefs.join(', ')} from ${origin}`,
        );
        emit();
        return;
      }

      const content = serialiseEntities(built.entities);
      await fs.writeFile(
        resolveSafeChildPath(ctx.workspacePath, CATALOG_INFO_FILE),
        content,
      );
      const record = serialiseProvisioningRecord({
        project,
        initiator: ctx.user?.ref ?? 'unknown',
        taskId: ctx.task.id,
        taskUrl,
        provisionedAt: at,
        repoUrl,
        entityRefs,
        catalogLocation: origin,
        ...provisioningDetails(input, project, identity, serving),
      });

      await audited(
        auditor,
        ctx,
        {
          eventId: 'catalog-entities-registered',
          severityLevel: 'medium',
          meta: {
            entityRefs,
            owner: project.owner,
            location: origin,
            repoUrl: repoUrl,
            files: [CATALOG_INFO_FILE, PROVISIONING_RECORD_FILE],
          },
        },
        async () => {
          const commit = await publisher.commitFiles({
            repoUrl: repoUrl,
            files: [
              { path: CATALOG_INFO_FILE, content },
              { path: PROVISIONING_RECORD_FILE, content: record },
            ],
            message: `Register ${project.name} in the catalog\n\nRequested by ${ctx.user?.ref ?? 'unknown'} (${taskUrl}).`,
            author: initiatorAuthor(
              ctx.user as Parameters<typeof initiatorAuthor>[0],
            ),
          });
          const existed = await addOrRefreshLocation(
            catalog,
            location,
            credentials,
          );
          await waitForEntities({
            catalog,
            credentials,
            built,
            origin,
            owner: project.owner,
            timeoutSeconds: catalogConfig.waitTimeoutSeconds,
            intervalMs,
            signal: ctx.signal,
          });
          return { commit: commit.commit, changed: commit.changed, existed };
        },
        r => ({
          commit: r.commit,
          fileChanged: r.changed,
          locationExisted: r.existed,
        }),
      );
      ctx.logger.info(`Registered ${entityRefs.join(', ')} from ${origin}`);
      emit();
    },
  });
}
