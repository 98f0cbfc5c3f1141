import { createHash } from 'node:crypto';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { reviewersFor } from '../gitops/change';
import { DEFAULT_PATH_TEMPLATE } from '../gitops/config';
import type { GitOpsChange, GitOpsResult, GitOpsTarget } from '../gitops/types';
import { audited } from '../shared/audit';
import { projectName, projectOwner } from '../shared/inputProperties';
import { initiatorAuthor } from '../shared/initiator';
import { comparePaths } from '../shared/sort';
import {
  computeGrants,
  grantsInput,
  normaliseRequestedGrants,
} from '../access/grants';
import type { AccessPolicy } from '../access/config';
import type { GatewayConfig } from '../gateway/config';
import { deriveProject, type ProjectNamingOptions } from '../shared/naming';
import { authorizeProject, type ProjectAccess } from '../access/project';
import type { ServingConfig } from './config';
import { resolveServingSpec, type ServingRequest } from './request';
import { examples } from './provision.examples';

export const SERVING_PROVISION_ACTION_ID = 'tensorflow:serving:provision';

export interface ServingProvisionActionOptions {
  gitops: GitOpsTarget;
  serving: ServingConfig;
  naming: ProjectNamingOptions;
  auditor: AuditorService;
  /** The access policy: the gateway rules in front of the endpoint come from it. */
  access: AccessPolicy;
  gateway: GatewayConfig;
  /** Who may act on which project: the one check every action makes first. */
  projectAccess: ProjectAccess;
}

export function createServingProvisionAction(
  options: ServingProvisionActionOptions,
) {
  const { gitops, serving, naming, auditor, access, gateway, projectAccess } =
    options;
  const pathTemplate = gitops.pathTemplate ?? DEFAULT_PATH_TEMPLATE;
  return createTemplateAction({
    id: SERVING_PROVISION_ACTION_ID,
    description:
      'Generates an isolated TensorFlow Serving (or KServe) endpoint for a model project (own namespace, default-deny network, GPU quota) and proposes it as a GitOps change.',
    examples: examples(),
    supportsDryRun: true,
    schema: {
      input: z =>
        z.object({
          name: projectName(z),
          owner: projectOwner(z),
          environment: z
            .string({
              description: 'Target environment (one the platform offers)',
            })
            .optional(),
          size: z
            .enum(['small', 'medium', 'large'], {
              description:
                'Size preset (sets replicas, gpus, cpu and memory); not together with those',
            })
            .optional(),
          replicas: z
            .number({ description: 'Replicas (within the platform ceiling)' })
            .int()
            .optional(),
          gpus: z
            .number({
              description: 'GPUs per replica (within the platform ceiling)',
            })
            .int()
            .optional(),
          cpu: z
            .string({ description: 'CPU per replica, e.g. "2" or "500m"' })
            .optional(),
          memory: z
            .string({ description: 'Memory per replica, e.g. "4Gi"' })
            .optional(),
          versionPolicy: z
            .enum(['latest', 'all', 'specific'], {
              description: 'Which model versions to serve (default latest)',
            })
            .optional(),
          latestVersions: z
            .number({
              description: 'With "latest": how many versions (default 1)',
            })
            .int()
            .optional(),
          versions: z
            .array(z.number().int(), {
              description: 'With "specific": the versions to serve',
            })
            .optional(),
          versionLabels: z
            .record(z.number().int(), {
              description: 'Version labels, e.g. { stable: 3, canary: 4 }',
            })
            .optional(),
          batching: z
            .object(
              {
                enabled: z.boolean(),
                maxBatchSize: z.number().int().optional(),
                batchTimeoutMicros: z.number().int().optional(),
                maxEnqueuedBatches: z.number().int().optional(),
                numBatchThreads: z.number().int().optional(),
              },
              { description: 'Server-side request batching' },
            )
            .optional(),
          grants: grantsInput(z),
          storageUri: z
            .string({
              description:
                "Model base path (gs://, s3:// or pvc://) under the platform's model storage; default <base>/<name>",
            })
            .optional(),
        }),
      output: z =>
        z.object({
          namespace: z.string({ description: 'Project namespace' }),
          serviceAccount: z.string({
            description: 'Service account the model server runs as',
          }),
          restUrl: z.string({ description: 'Cluster-internal REST model URL' }),
          grpcUrl: z
            .string({
              description: 'Cluster-internal gRPC address (TF Serving runtime)',
            })
            .optional(),
          gatewayUrl: z
            .string({
              description: 'Public URL through the gateway, when configured',
            })
            .optional(),
          runtime: z.enum(['tfserving', 'kserve']),
          gitopsTarget: z.enum(['local', 'github']),
          branch: z.string({
            description: 'GitOps branch carrying the change',
          }),
          commit: z.string({ description: 'Commit on the branch' }).optional(),
          url: z
            .string({
              description:
                'Pull request URL (github) or repository URL (local)',
            })
            .optional(),
          pullRequestUrl: z.string().optional(),
          pullRequestNumber: z.number().optional(),
          changed: z.boolean({
            description:
              'False when the branch already held exactly these files',
          }),
          files: z.array(z.string(), {
            description:
              'Paths of the generated files in the GitOps repository',
          }),
          manifests: z
            .array(z.object({ path: z.string(), content: z.string() }), {
              description: 'Dry run only: the generated files',
            })
            .optional(),
        }),
    },
    async handler(ctx) {
      const build = await import('./build'); // manifest builders load on the first run
      const input = ctx.input;
      const project = deriveProject(
        { name: input.name, owner: input.owner },
        naming,
      );
      const spec = resolveServingSpec(
        input as ServingRequest,
        project,
        serving,
      );
      const { manifests, endpoints } = build.buildServingManifests(
        project,
        spec,
        serving,
      );
      const grants = computeGrants(
        access,
        project,
        normaliseRequestedGrants(input.grants),
      );
      const gatewayFiles = build.gatewayManifestFiles(
        build.buildGatewayManifests(project, grants, gateway, {
          runtime: spec.runtime,
        }),
        project,
        pathTemplate,
      );
      const files = [
        ...build.servingManifestFiles(manifests, project, pathTemplate),
        ...gatewayFiles,
      ].sort(comparePaths);
      const paths = files.map(f => f.path);
      const initiator = ctx.user?.ref ?? 'unknown';
      // Every input is checked; before anything leaves the step, the one project check.
      await authorizeProject(projectAccess, ctx, project, {
        action: SERVING_PROVISION_ACTION_ID,
        mode: 'use',
      });

      ctx.output('namespace', project.namespace);
      ctx.output('serviceAccount', project.serviceAccount);
      ctx.output('restUrl', endpoints.rest);
      if (endpoints.grpc) ctx.output('grpcUrl', endpoints.grpc);
      if (endpoints.gateway) ctx.output('gatewayUrl', endpoints.gateway);
      ctx.output('runtime', spec.runtime);
      ctx.output('gitopsTarget', gitops.kind);
      ctx.output('files', paths);

      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: ${files.length} manifest(s) for ${project.namespace}; nothing committed`,
        );
        ctx.output('branch', project.gitopsBranch);
        ctx.output('changed', true);
        ctx.output('manifests', files);
        return;
      }

      const change: GitOpsChange = {
        branch: project.gitopsBranch,
        title: `Model project ${project.name}: serving endpoint (${spec.environment})`,
        description: build.describeChange(
          project,
          spec,
          serving,
          endpoints,
          paths,
          initiator,
        ),
        files,
        initiator,
        author: initiatorAuthor(ctx.user),
        labels: ['model-serving', `env/${spec.environment}`],
        reviewers: reviewersFor(project.owner),
        ownedPaths: new RegExp(
          `(?:${build.servingOwnedPaths(project, pathTemplate).source})|(?:${build.gatewayOwnedPaths(project, pathTemplate).source})`,
        ),
      };
      const digest = createHash('sha256')
        .update(JSON.stringify({ branch: change.branch, files }))
        .digest('hex')
        .slice(0, 16);
      const result = await ctx.checkpoint({
        key: `tensorflow.serving.provision.v1.${project.namespace}.${digest}`,
        fn: async () => {
          const proposed = await audited(
            auditor,
            ctx,
            {
              eventId: 'serving-endpoint-proposed',
              severityLevel: 'high',
              meta: {
                project: project.name,
                owner: project.owner,
                namespace: project.namespace,
                environment: spec.environment,
                runtime: spec.runtime,
                target: gitops.kind,
                branch: project.gitopsBranch,
                files: paths,
              },
            },
            () => gitops.propose(change),
            r => ({
              commit: r.commit,
              url: r.url,
              changed: r.changed,
              pullRequestNumber: r.pullRequestNumber ?? null,
            }),
          );
          return { ...proposed } as GitOpsResult & {
            [key: string]: string | number | boolean | undefined;
          };
        },
      });
      ctx.logger.info(
        `${result.changed ? 'Proposed' : 'Unchanged'} serving endpoint for ${project.namespace} on ${result.branch} (${result.url})`,
      );
      ctx.output('branch', result.branch);
      ctx.output('commit', result.commit);
      ctx.output('url', result.url);
      if (
        result.target === 'github' &&
        result.pullRequestNumber !== undefined
      ) {
        ctx.output('pullRequestUrl', result.url);
        ctx.output('pullRequestNumber', result.pullRequestNumber);
      }
      ctx.output('changed', result.changed);
    },
  });
}
