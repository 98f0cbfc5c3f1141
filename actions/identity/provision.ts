import { createHash } from 'node:crypto';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { authorizeProject, type ProjectAccess } from '../access/project';
import type { AccessPolicy } from '../access/config';
import {
  computeGrants,
  grantsInput,
  normaliseRequestedGrants,
} from '../access/grants';
import { reviewersFor } from '../gitops/change';
import {
  DEFAULT_PATH_TEMPLATE,
  ownedPathPattern,
  renderGitOpsPath,
} from '../gitops/config';
import { manifestYaml } from '../gitops/manifests';
import type { GitOpsFile, GitOpsResult, GitOpsTarget } from '../gitops/types';
import { audited } from '../shared/audit';
import { initiatorAuthor } from '../shared/initiator';
import { projectName, projectOwner } from '../shared/inputProperties';
import {
  deriveProject,
  type ModelProject,
  type ProjectNamingOptions,
} from '../shared/naming';
import type { IdentityConfig } from './config';
import { examples } from './provision.examples';
import type { Manifest, RepositoryRef } from './types';

export const IDENTITY_PROVISION_ACTION_ID = 'tensorflow:identity:provision';

export interface IdentityProvisionActionOptions {
  gitops: GitOpsTarget;
  access: AccessPolicy;
  identity: IdentityConfig;
  naming: ProjectNamingOptions;
  /** Who may act on which project: the one check every action makes first. */
  projectAccess: ProjectAccess;
  auditor: AuditorService;
  /** tensorflow.serving.modelStorageBaseUri: the CI contract's MODEL_STORAGE_URI is `<base>/<project>`. */
  modelStorageBaseUri?: string;
}

const GROUP_ABBREV: Record<string, string> = {
  '': 'core',
  'rbac.authorization.k8s.io': 'rbac',
  'iam.services.k8s.aws': 'aws-iam',
  'eks.services.k8s.aws': 'aws-eks',
  'iam.cnrm.cloud.google.com': 'gcp-iam',
};

export const IDENTITY_AREA = 'identity';

/**
 * GitOps files for the manifests under the repository's path layout (default
 * `projects/<ns>/identity/<group>-<kind>-<name>.yaml`): the API group prefix keeps
 * same-named kinds of different clouds apart.
 */
export function identityFiles(
  project: ModelProject,
  manifests: Manifest[],
  pathTemplate: string = DEFAULT_PATH_TEMPLATE,
): GitOpsFile[] {
  return manifests.map(m => {
    const group = m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '';
    const prefix = GROUP_ABBREV[group] ?? group.replace(/[^a-z0-9-]/g, '-');
    return {
      path: renderGitOpsPath(pathTemplate, {
        namespace: project.namespace,
        project: project.name,
        area: IDENTITY_AREA,
        kind: `${prefix}-${m.kind.toLowerCase()}`,
        name: m.metadata.name,
      }),
      content: manifestYaml(m),
    };
  });
}

function readRepository(value: unknown): RepositoryRef | undefined {
  if (value === undefined || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const name = /^[A-Za-z0-9._-]{1,100}$/;
  if (
    typeof r.owner !== 'string' ||
    !name.test(r.owner) ||
    typeof r.name !== 'string' ||
    !name.test(r.name)
  ) {
    throw new InputError(
      'repository.owner and repository.name must be GitHub names such as "acme" and "fraud-detector"',
    );
  }
  const idOf = (field: string, v: unknown) => {
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
      throw new InputError(
        `repository.${field} must be the repository's numeric GitHub id (tensorflow:github:configure outputs it)`,
      );
    }
    return n;
  };
  return {
    owner: r.owner,
    name: r.name,
    id: idOf('id', r.id),
    ownerId: idOf('ownerId', r.ownerId),
  };
}

export function createIdentityProvisionAction(
  options: IdentityProvisionActionOptions,
) {
  const { gitops, access, identity, naming, auditor, projectAccess } = options;
  const pathTemplate = gitops.pathTemplate ?? DEFAULT_PATH_TEMPLATE;
  return createTemplateAction({
    id: IDENTITY_PROVISION_ACTION_ID,
    description:
      'Provisions the per-project service account, RBAC per granted scope, cloud workload identity and CI trust (no static keys) as a GitOps change',
    examples: examples(),
    supportsDryRun: true,
    schema: {
      input: z =>
        z.object({
          name: projectName(z),
          owner: projectOwner(z),
          grants: grantsInput(z),
          repository: z
            .object({
              owner: z.string(),
              name: z.string(),
              id: z.union([z.number(), z.string()]),
              ownerId: z.union([z.number(), z.string()]),
            })
            .optional()
            .describe(
              'Model repository with numeric ids (from tensorflow:github:configure); required when CI trust is enabled',
            ),
        }),
      output: z =>
        z.object({
          serviceAccount: z.object({
            namespace: z.string(),
            name: z.string(),
            ref: z.string(),
          }),
          grants: z
            .record(z.string(), z.array(z.string()))
            .describe('Scopes per group'),
          identities: z.object({
            provider: z.string(),
            principal: z.string().optional(),
            resources: z.array(z.string()),
          }),
          ciTrust: z
            .object({
              ref: z.string(),
              cloud: z.string(),
              repositoryId: z.number(),
              repositoryOwnerId: z.number(),
              claimKeys: z.array(z.string()),
              subjects: z.record(z.string(), z.string()),
              audience: z.string(),
              variables: z.record(z.string(), z.string()),
            })
            .optional(),
          files: z.array(z.string()),
          manifests: z
            .array(z.object({ path: z.string(), content: z.string() }))
            .optional()
            .describe('Dry run only'),
          gitops: z
            .object({
              target: z.string(),
              branch: z.string(),
              commit: z.string(),
              url: z.string(),
              changed: z.boolean(),
            })
            .optional(),
        }),
    },
    async handler(ctx) {
      const project = deriveProject(
        { name: ctx.input.name, owner: ctx.input.owner },
        naming,
      );
      const requested = normaliseRequestedGrants(ctx.input.grants);
      const repository = readRepository(ctx.input.repository);

      const grants = computeGrants(access, project, requested);
      const modelStorageUri = options.modelStorageBaseUri
        ? `${options.modelStorageBaseUri}/${project.name}`
        : undefined;
      // manifest builders and the policy lint load on the first run, not with the module
      const { buildIdentityManifests } = await import('./manifests');
      const { lintManifests } = await import('./lint');
      const bundle = buildIdentityManifests({
        project,
        grants,
        identity,
        repository,
        modelStorageUri,
      });
      const findings = lintManifests(bundle.manifests);
      if (findings.length > 0) {
        throw new Error(
          `Identity policy lint failed; nothing was proposed:\n${findings.map(f => `- [${f.rule}] ${f.message}`).join('\n')}`,
        );
      }
      const files = identityFiles(project, bundle.manifests, pathTemplate);
      // Every input is checked; before anything leaves the step, the one project check.
      await authorizeProject(projectAccess, ctx, project, {
        action: IDENTITY_PROVISION_ACTION_ID,
        mode: 'use',
      });

      ctx.output('serviceAccount', bundle.serviceAccount);
      ctx.output('grants', grants.groups);
      ctx.output('identities', bundle.workloadIdentity);
      if (bundle.ciTrust) ctx.output('ciTrust', bundle.ciTrust);
      ctx.output(
        'files',
        files.map(f => f.path),
      );

      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: ${files.length} identity manifests for ${project.namespace}, nothing proposed`,
        );
        ctx.output('manifests', files);
        return;
      }

      const initiator = ctx.user?.ref ?? 'unknown';
      const digest = createHash('sha256')
        .update(JSON.stringify(files))
        .digest('hex')
        .slice(0, 16);
      const result = await ctx.checkpoint({
        key: `tensorflow-identity-provision-v1-${project.namespace}-${digest}`,
        fn: async () => {
          const r: GitOpsResult = await audited(
            auditor,
            ctx,
            {
              eventId: 'identity-provisioned',
              severityLevel: 'high',
              meta: {
                project: project.name,
                namespace: project.namespace,
                serviceAccount: bundle.serviceAccount.ref,
                provider: identity.provider,
                grants: grants.groups,
                identities: bundle.workloadIdentity.resources,
                ciTrust: bundle.ciTrust?.ref ?? null,
                files: files.map(f => f.path),
              },
            },
            () =>
              gitops.propose({
                branch: project.gitopsBranch,
                title: `Identity for ${project.name}: service account, RBAC, workload identity`,
                description: [
                  `Requested by ${initiator}.`,
                  `Service account ${bundle.serviceAccount.ref} (no automounted token).`,
                  `Scopes: ${Object.entries(grants.groups)
                    .map(([g, s]) => `${g}=${s.join('+')}`)
                    .join(', ')}.`,
                  `Workload identity: ${identity.provider}.`,
                  bundle.ciTrust
                    ? `CI trust: ${bundle.ciTrust.ref} (exact subjects).`
                    : 'CI trust: none.',
                ].join('\n'),
                files,
                // Identity files of this project that are no longer generated (e.g. a revoked scope) are removed.
                ownedPaths: ownedPathPattern(pathTemplate, {
                  namespace: project.namespace,
                  project: project.name,
                  area: IDENTITY_AREA,
                }),
                initiator,
                author: initiatorAuthor(ctx.user),
                labels: ['tensorflow', 'identity'],
                reviewers: reviewersFor(project.owner),
              }),
            res => ({
              commit: res.commit,
              branch: res.branch,
              url: res.url,
              changed: res.changed,
            }),
          );
          return {
            target: r.target,
            branch: r.branch,
            commit: r.commit,
            url: r.url,
            changed: r.changed,
          };
        },
      });
      ctx.output('gitops', result);
      ctx.logger.info(
        `Identity for ${project.namespace} proposed on ${result.branch} (${result.changed ? 'changed' : 'unchanged'})`,
      );
    },
  });
}
