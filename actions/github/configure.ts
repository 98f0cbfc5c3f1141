import { createHash } from 'node:crypto';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import type { ScmIntegrationRegistry } from '@backstage/integration';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject } from '@backstage/types';
import {
  assertRepositoryBound,
  PROVISIONING_RECORD_FILE,
} from '../access/binding';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { GITHUB_PERMISSIONS, type AccessPolicy } from '../access/config';
import {
  computeGrants,
  grantsInput,
  normaliseRequestedGrants,
} from '../access/grants';
import { audited } from '../shared/audit';
import { projectName, projectOwner } from '../shared/inputProperties';
import { deriveProject, type ProjectNamingOptions } from '../shared/naming';
import {
  parseGithubRepoUrl,
  readRepositoryFile,
  type GithubClient,
  type GithubRepo,
} from '../shared/github/client';
import type { Write } from './configureSteps';
import {
  DEFAULT_RULESET_NAME,
  ENDPOINT_MAX,
  ENV_NAME,
  MAX_ENVIRONMENTS,
  RULESET_NAME,
  SERVICE_ACCOUNT,
  TEAM_SLUG,
  TRUST_REF,
  checkConfigureInputs,
  checkVariables,
} from './configureInputs';
import { examples } from './configure.examples';

export { DEFAULT_RULESET_NAME };

export const GITHUB_CONFIGURE_ACTION_ID = 'tensorflow:github:configure';

export interface GithubConfigureActionOptions {
  /** Builds an authenticated client per task (module.ts: `t => createGithubClient(t, { integrations, ... })`). */
  getClient: (target: GithubRepo) => Promise<GithubClient>;
  integrations: ScmIntegrationRegistry;
  access: AccessPolicy;
  naming: ProjectNamingOptions;
  auditor: AuditorService;
  /** Who may act on which project: the one check every action makes first. */
  projectAccess: ProjectAccess;
}

export function createGithubConfigureAction(
  options: GithubConfigureActionOptions,
) {
  const { getClient, integrations, access, naming, auditor, projectAccess } =
    options;
  return createTemplateAction({
    id: GITHUB_CONFIGURE_ACTION_ID,
    description:
      'Configures the model repository: team permissions from the access policy, CODEOWNERS, a code-owner-review ruleset, staging/production environments with the owning team as reviewers, non-secret variables, and the OIDC subject claim (only once the cloud trust exists)',
    examples: examples(),
    supportsDryRun: true,
    schema: {
      input: z =>
        z.object({
          repoUrl: z
            .string()
            .max(500)
            .describe('github.com?owner=<org>&repo=<repo>'),
          name: projectName(z),
          owner: projectOwner(z).describe(
            'Owning group entity ref; its GitHub team (same slug) becomes code owner and reviewer',
          ),
          grants: grantsInput(z),
          teamSlugs: z
            .record(z.string(), z.string().regex(TEAM_SLUG))
            .optional()
            .describe(
              'GitHub team slug per group ref when it differs from the group name (lowercase letters, digits, _ and -)',
            ),
          environments: z
            .array(z.string().regex(ENV_NAME))
            .max(MAX_ENVIRONMENTS)
            .optional()
            .describe(
              'GitHub environment names (letters, digits, _ . -). Default: staging, production',
            ),
          serviceAccount: z
            .string()
            .regex(SERVICE_ACCOUNT)
            .optional()
            .describe(
              "Service account reference for the SERVICE_ACCOUNT variable (the identity step's serviceAccount.ref)",
            ),
          endpoint: z
            .string()
            .url()
            .max(ENDPOINT_MAX)
            .optional()
            .describe(
              'Serving endpoint http(s) URL for the MODEL_ENDPOINT variable',
            ),
          ciTrust: z
            .union([
              z.literal(''),
              z.object({
                ref: z.string().regex(TRUST_REF),
                cloud: z.string(),
                repositoryId: z.number(),
                repositoryOwnerId: z.number(),
                claimKeys: z.array(z.string()),
                subjects: z.record(z.string(), z.string()).optional(),
                audience: z.string().optional(),
                variables: z.record(z.string(), z.string()).optional(),
              }),
            ])
            .optional()
            .describe(
              'The ciTrust output of tensorflow:identity:provision; without it the OIDC subject is left unchanged',
            ),
          rulesetName: z
            .string()
            .regex(RULESET_NAME)
            .optional()
            .describe(
              `Up to 100 letters, digits, spaces, _ . -. Default: ${DEFAULT_RULESET_NAME}`,
            ),
          ruleset: z
            .boolean()
            .optional()
            .describe(
              'Create or update the no-bypass default-branch ruleset. Default true. The create-model template passes false in its first pass and applies the ruleset in its last step, after tensorflow:catalog:register has committed catalog-info.yaml to the default branch',
            ),
        }),
      output: z =>
        z.object({
          repositoryId: z.number(),
          repositoryOwnerId: z.number(),
          repository: z
            .object({
              owner: z.string(),
              name: z.string(),
              id: z.number(),
              ownerId: z.number(),
            })
            .describe(
              'The repository with its numeric ids, as tensorflow:identity:provision takes it for the CI trust',
            ),
          defaultBranch: z.string(),
          teams: z.array(
            z.object({
              group: z.string(),
              team: z.string(),
              permission: z.string(),
            }),
          ),
          rulesetId: z.number().optional(),
          environments: z.array(z.string()),
          oidcSubject: z.object({
            customised: z.boolean(),
            claimKeys: z.array(z.string()).optional(),
            reason: z.string().optional(),
          }),
          changes: z
            .array(z.string())
            .describe('What changed (or, in dry run, what would change)'),
        }),
    },
    async handler(ctx) {
      const steps = await import('./configureSteps'); // loaded on the first run, not with the module
      const { desiredVariables } = await import('./configurePlan');
      const input = ctx.input;
      const {
        host,
        owner: org,
        repo,
      } = parseGithubRepoUrl(input.repoUrl, integrations);
      const project = deriveProject(
        { name: input.name, owner: input.owner },
        naming,
      );
      const { environments, rulesetName, trust, applyRuleset, slugOf } =
        checkConfigureInputs(input);
      const grants = computeGrants(
        access,
        project,
        normaliseRequestedGrants(input.grants),
      );
      const ownerGrant = grants.github.find(g => g.group === project.owner);
      if (
        !ownerGrant ||
        GITHUB_PERMISSIONS.indexOf(ownerGrant.permission) <
          GITHUB_PERMISSIONS.indexOf('push')
      ) {
        throw new InputError(
          `the owning group ${project.owner} gets GitHub permission "${ownerGrant?.permission ?? 'none'}" from its default scopes; CODEOWNERS and required reviews need at least "push": include a scope with github.permission push or higher in tensorflow.access.rules.ownerDefaultScopes`,
        );
      }

      const variables = checkVariables(
        desiredVariables(trust?.variables, {
          serviceAccount: input.serviceAccount,
          endpoint: input.endpoint,
        }),
      );

      // Every input is checked; before GitHub is touched, the one project check.
      await authorizeProject(projectAccess, ctx, project, {
        action: GITHUB_CONFIGURE_ACTION_ID,
        mode: 'use',
      });
      const octokit = await getClient({ host, owner: org, repo });
      const changes: string[] = [];
      const repoKey = `${org}/${repo}`;
      /** One write: planned in dry run; otherwise checkpointed (retries skip it) and audited. */
      const write: Write = async (
        label,
        eventId,
        severityLevel,
        meta,
        effect,
        keep,
      ) => {
        changes.push(label);
        if (ctx.isDryRun) return undefined;
        const digest = createHash('sha256')
          .update(JSON.stringify({ label, meta }))
          .digest('hex')
          .slice(0, 16);
        const saved = await ctx.checkpoint({
          key: `tensorflow-github-configure-v1-${repoKey}-${eventId}-${digest}`,
          fn: async (): Promise<JsonObject> => {
            const result = await audited(
              auditor,
              ctx,
              {
                eventId,
                severityLevel,
                meta: { repository: repoKey, change: label, ...meta },
              },
              effect,
            );
            return { done: true, kept: keep ? keep(result) : null };
          },
        });
        return (saved as JsonObject).kept ?? undefined;
      };

      // 0. The repository: numeric ids (pin the CI trust) and default branch.
      const { data: repository } = await octokit.rest.repos.get({
        owner: org,
        repo,
      });
      const repositoryId = repository.id;
      const repositoryOwnerId = repository.owner.id;
      const defaultBranch = repository.default_branch;
      // Only the repository bound to this project (its provisioning record) is configured.
      assertRepositoryBound(
        {
          exists: true,
          record: await readRepositoryFile(octokit, {
            owner: org,
            repo,
            path: PROVISIONING_RECORD_FILE,
            ref: defaultBranch,
          }),
        },
        { project: project.name, owner: project.owner },
        { repoUrl: input.repoUrl, action: GITHUB_CONFIGURE_ACTION_ID },
      );

      // 1–5. The GitHub steps (configureSteps.ts), in this order: teams, CODEOWNERS, ruleset, environments, OIDC subject.
      const target = { octokit, org, repo, repoKey };
      const teams = await steps.configureTeams(target, grants, slugOf, write);
      const ownerTeam = slugOf(project.owner);

      await steps.configureCodeowners(
        target,
        ctx,
        project,
        ownerTeam,
        defaultBranch,
        write,
      );

      const rulesetId = await steps.configureRuleset(
        target,
        ctx,
        rulesetName,
        applyRuleset,
        write,
      );

      await steps.configureEnvironments(
        target,
        environments,
        ownerTeam,
        variables,
        write,
      );

      const oidcSubject = await steps.configureOidcSubject(
        target,
        ctx,
        trust,
        { repositoryId, repositoryOwnerId },
        write,
      );

      ctx.output('repositoryId', repositoryId);
      ctx.output('repositoryOwnerId', repositoryOwnerId);
      ctx.output('repository', {
        owner: org,
        name: repo,
        id: repositoryId,
        ownerId: repositoryOwnerId,
      });
      ctx.output('defaultBranch', defaultBranch);
      ctx.output('teams', teams);
      if (rulesetId !== undefined) ctx.output('rulesetId', rulesetId);
      ctx.output('environments', environments);
      ctx.output('oidcSubject', oidcSubject);
      ctx.output('changes', changes);
      ctx.logger.info(
        `${ctx.isDryRun ? 'Dry run: would apply' : 'Applied'} ${changes.length} change(s) to ${repoKey}${changes.length ? `: ${changes.join('; ')}` : ''}`,
      );
    },
  });
}
