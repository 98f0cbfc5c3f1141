import { createHash } from 'node:crypto';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import type { ScmIntegrationRegistry } from '@backstage/integration';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject, JsonValue } from '@backstage/types';
import { assertRepositoryBound, PROVISIONING_RECORD_FILE } from '../access/binding';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { GITHUB_PERMISSIONS, type AccessPolicy } from '../access/config';
import { computeGrants, grantsInput, normaliseRequestedGrants } from '../access/grants';
import { audited } from '../shared/audit';
import { projectName, projectOwner } from '../shared/inputProperties';
import { deriveProject, type ProjectNamingOptions } from '../shared/naming';
import { parseGithubRepoUrl, readRepositoryFile, type GithubClient, type GithubRepo } from '../shared/github/client';
import {
  codeownersContent,
  currentTeamPermission,
  desiredEnvironment,
  desiredRuleset,
  desiredVariables,
  environmentMatches,
  oidcSubjectMatches,
  planVariables,
  rulesetMatches,
  type RepoPermission,
} from './configure-plan';
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
  checkTrustMatches,
  checkVariables,
} from './configure-inputs';
import { examples } from './configure.examples';

export { DEFAULT_RULESET_NAME };

export const GITHUB_CONFIGURE_ACTION_ID = 'tensorflow:github:configure';
export const CODEOWNERS_PATH = '.github/CODEOWNERS';

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

function status(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? (error as { status?: number }).status : undefined;
}
async function orNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    if (status(error) === 404) return undefined;
    throw error;
  }
}

export function createGithubConfigureAction(options: GithubConfigureActionOptions) {
  const { getClient, integrations, access, naming, auditor, projectAccess } = options;
  return createTemplateAction({
    id: GITHUB_CONFIGURE_ACTION_ID,
    description:
      'Configures the model repository: team permissions from the access policy, CODEOWNERS, a code-owner-review ruleset, staging/production environments with the owning team as reviewers, non-secret variables, and the OIDC subject claim (only once the cloud trust exists)',
    examples,
    supportsDryRun: true,
    schema: {
      input: z =>
        z.object({
          repoUrl: z.string().max(500).describe('github.com?owner=<org>&repo=<repo>'),
          name: projectName(z),
          owner: projectOwner(z).describe('Owning group entity ref; its GitHub team (same slug) becomes code owner and reviewer'),
          grants: grantsInput(z),
          teamSlugs: z.record(z.string(), z.string().regex(TEAM_SLUG)).optional().describe('GitHub team slug per group ref when it differs from the group name (lowercase letters, digits, _ and -)'),
          environments: z.array(z.string().regex(ENV_NAME)).max(MAX_ENVIRONMENTS).optional().describe('GitHub environment names (letters, digits, _ . -). Default: staging, production'),
          serviceAccount: z.string().regex(SERVICE_ACCOUNT).optional().describe('Service account reference for the SERVICE_ACCOUNT variable (the identity step\'s serviceAccount.ref)'),
          endpoint: z.string().url().max(ENDPOINT_MAX).optional().describe('Serving endpoint http(s) URL for the MODEL_ENDPOINT variable'),
          ciTrust: z
            .union([z.literal(''), z.object({
              ref: z.string().regex(TRUST_REF),
              cloud: z.string(),
              repositoryId: z.number(),
              repositoryOwnerId: z.number(),
              claimKeys: z.array(z.string()),
              subjects: z.record(z.string(), z.string()).optional(),
              audience: z.string().optional(),
              variables: z.record(z.string(), z.string()).optional(),
            })])
            .optional()
            .describe('The ciTrust output of tensorflow:identity:provision; without it the OIDC subject is left unchanged'),
          rulesetName: z.string().regex(RULESET_NAME).optional().describe(`Up to 100 letters, digits, spaces, _ . -. Default: ${DEFAULT_RULESET_NAME}`),
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
            .object({ owner: z.string(), name: z.string(), id: z.number(), ownerId: z.number() })
            .describe('The repository with its numeric ids, as tensorflow:identity:provision takes it for the CI trust'),
          defaultBranch: z.string(),
          teams: z.array(z.object({ group: z.string(), team: z.string(), permission: z.string() })),
          rulesetId: z.number().optional(),
          environments: z.array(z.string()),
          oidcSubject: z.object({ customised: z.boolean(), claimKeys: z.array(z.string()).optional(), reason: z.string().optional() }),
          changes: z.array(z.string()).describe('What changed (or, in dry run, what would change)'),
        }),
    },
    async handler(ctx) {
      const input = ctx.input;
      const { host, owner: org, repo } = parseGithubRepoUrl(input.repoUrl, integrations);
      const project = deriveProject({ name: input.name, owner: input.owner }, naming);
      const { environments, rulesetName, trust, applyRuleset, slugOf } = checkConfigureInputs(input);
      const grants = computeGrants(access, project, normaliseRequestedGrants(input.grants));
      const ownerGrant = grants.github.find(g => g.group === project.owner);
      if (!ownerGrant || GITHUB_PERMISSIONS.indexOf(ownerGrant.permission) < GITHUB_PERMISSIONS.indexOf('push')) {
        throw new InputError(
          `the owning group ${project.owner} gets GitHub permission "${ownerGrant?.permission ?? 'none'}" from its default scopes; CODEOWNERS and required reviews need at least "push": include a scope with github.permission push or higher in tensorflow.access.rules.ownerDefaultScopes`,
        );
      }

      const variables = checkVariables(desiredVariables(trust?.variables, { serviceAccount: input.serviceAccount, endpoint: input.endpoint }));

      // Every input is checked; before GitHub is touched, the one project check.
      await authorizeProject(projectAccess, ctx, project, { action: GITHUB_CONFIGURE_ACTION_ID, mode: 'use' });
      const octokit = await getClient({ host, owner: org, repo });
      const changes: string[] = [];
      const repoKey = `${org}/${repo}`;
      /** One write: planned in dry run; otherwise checkpointed (retries skip it) and audited. */
      const write = async (
        label: string,
        eventId: string,
        severityLevel: 'medium' | 'high',
        meta: JsonObject,
        effect: () => Promise<unknown>,
        keep?: (result: any) => JsonValue,
      ): Promise<JsonValue | undefined> => {
        changes.push(label);
        if (ctx.isDryRun) return undefined;
        const digest = createHash('sha256').update(JSON.stringify({ label, meta })).digest('hex').slice(0, 16);
        const saved = await ctx.checkpoint({
          key: `tensorflow-github-configure-v1-${repoKey}-${eventId}-${digest}`,
          fn: async (): Promise<JsonObject> => {
            const result = await audited(auditor, ctx, { eventId, severityLevel, meta: { repository: repoKey, change: label, ...meta } }, effect);
            return { done: true, kept: keep ? keep(result) : null };
          },
        });
        return (saved as JsonObject).kept ?? undefined;
      };

      // 0. The repository: numeric ids (pin the CI trust) and default branch.
      const { data: repository } = await octokit.rest.repos.get({ owner: org, repo });
      const repositoryId = repository.id;
      const repositoryOwnerId = repository.owner.id;
      const defaultBranch = repository.default_branch;
      // Only the repository bound to this project (its provisioning record) is configured.
      assertRepositoryBound(
        { exists: true, record: await readRepositoryFile(octokit, { owner: org, repo, path: PROVISIONING_RECORD_FILE, ref: defaultBranch }) },
        { project: project.name, owner: project.owner },
        { repoUrl: input.repoUrl, action: GITHUB_CONFIGURE_ACTION_ID },
      );

      // 1. Team permissions per scope mapping; the owning team first, so it has write access before CODEOWNERS names it.
      const teams: Array<{ group: string; team: string; permission: RepoPermission }> = [];
      for (const g of grants.github) {
        const team = slugOf(g.group);
        const current = await orNotFound(
          octokit.rest.teams.checkPermissionsForRepoInOrg({
            org,
            team_slug: team,
            owner: org,
            repo,
            headers: { accept: 'application/vnd.github.v3.repository+json' },
          }),
        );
        const have = currentTeamPermission((current?.data ?? undefined) as any);
        if (have !== g.permission) {
          await write(`team ${team}: ${have ?? 'none'} -> ${g.permission}`, 'github-team-permission-set', 'high', { team, group: g.group, permission: g.permission, scopes: g.scopes }, () =>
            octokit.rest.teams.addOrUpdateRepoPermissionsInOrg({ org, team_slug: team, owner: org, repo, permission: g.permission }),
          );
        }
        teams.push({ group: g.group, team, permission: g.permission });
      }
      const ownerTeam = slugOf(project.owner);

      // 2. CODEOWNERS naming the owning team (which now has write access).
      const wanted = codeownersContent(org, ownerTeam, project.owner);
      const existing = await orNotFound(octokit.rest.repos.getContent({ owner: org, repo, path: CODEOWNERS_PATH, ref: defaultBranch }));
      const file = existing?.data as { type?: string; sha?: string; content?: string; encoding?: string } | unknown[] | undefined;
      if (Array.isArray(file) || (file && file.type !== undefined && file.type !== 'file')) {
        throw new InputError(`${CODEOWNERS_PATH} in ${repoKey} is not a file; remove it so CODEOWNERS can be written`);
      }
      const currentText = file?.content !== undefined ? Buffer.from(file.content, 'base64').toString('utf8') : undefined;
      if (currentText !== wanted) {
        await write(`${CODEOWNERS_PATH}: ${file ? 'update' : 'create'} (owner @${org}/${ownerTeam})`, 'github-codeowners-set', 'high', { path: CODEOWNERS_PATH, team: ownerTeam }, () =>
          octokit.rest.repos.createOrUpdateFileContents({
            owner: org,
            repo,
            path: CODEOWNERS_PATH,
            branch: defaultBranch,
            message: `CODEOWNERS: @${org}/${ownerTeam} owns ${project.name} (${ctx.user?.ref ?? 'backstage'})`,
            content: Buffer.from(wanted, 'utf8').toString('base64'),
            ...(file?.sha ? { sha: file.sha } : {}),
          }),
        );
      }

      // 3. Ruleset on the default branch requiring code-owner review (look before create; update in place).
      // Deferred (ruleset: false) while later steps still commit to the default branch (docs/github.md).
      const ruleset = desiredRuleset(rulesetName);
      const { data: rulesets } = applyRuleset ? await octokit.rest.repos.getRepoRulesets({ owner: org, repo, per_page: 100, includes_parents: false }) : { data: [] };
      const found = rulesets.find(r => r.name === rulesetName && r.source_type !== 'Organization');
      let rulesetId = found?.id;
      if (!applyRuleset) {
        ctx.logger.info(`Ruleset ${rulesetName} deferred (ruleset: false): a later step applies it once the default branch needs no more direct commits`);
      } else if (found) {
        const { data: detail } = await octokit.rest.repos.getRepoRuleset({ owner: org, repo, ruleset_id: found.id });
        if (!rulesetMatches(detail as any, ruleset)) {
          await write(`ruleset ${rulesetName} (#${found.id}): update`, 'github-ruleset-set', 'high', { ruleset: rulesetName, id: found.id }, () =>
            octokit.rest.repos.updateRepoRuleset({ owner: org, repo, ruleset_id: found.id, ...(ruleset as any) }),
          );
        }
      } else {
        const created = await write(
          `ruleset ${rulesetName}: create`,
          'github-ruleset-set',
          'high',
          { ruleset: rulesetName },
          () => octokit.rest.repos.createRepoRuleset({ owner: org, repo, ...(ruleset as any) }),
          res => res.data.id,
        );
        if (typeof created === 'number') rulesetId = created;
      }

      // 4. Environments with the owning team as required reviewers, and their non-secret variables.
      const { data: team } = await octokit.rest.teams.getByName({ org, team_slug: ownerTeam });
      const envBody = desiredEnvironment(team.id);
      const { data: envList } = await octokit.rest.repos.getAllEnvironments({ owner: org, repo, per_page: 100 });
      for (const env of environments) {
        const current = (envList.environments ?? []).find(e => e.name === env);
        if (!environmentMatches(current as any, envBody)) {
          await write(`environment ${env}: ${current ? 'update' : 'create'} (reviewers @${org}/${ownerTeam})`, 'github-environment-set', 'high', { environment: env, team: ownerTeam }, () =>
            octokit.rest.repos.createOrUpdateEnvironment({ owner: org, repo, environment_name: env, ...envBody }),
          );
        }
        const present = current
          ? (await octokit.rest.actions.listEnvironmentVariables({ owner: org, repo, environment_name: env, per_page: 30 })).data.variables
          : [];
        for (const change of planVariables(present, variables)) {
          await write(`environment ${env}: variable ${change.name} ${change.op}`, 'github-variable-set', 'medium', { environment: env, variable: change.name }, () =>
            change.op === 'create'
              ? octokit.rest.actions.createEnvironmentVariable({ owner: org, repo, environment_name: env, name: change.name, value: change.value })
              : octokit.rest.actions.updateEnvironmentVariable({ owner: org, repo, environment_name: env, name: change.name, value: change.value }),
          );
        }
      }

      // 5. OIDC subject claim: only after the matching cloud trust exists, and only for this repository.
      let oidcSubject: { customised: boolean; claimKeys?: string[]; reason?: string };
      if (!trust) {
        oidcSubject = { customised: false, reason: 'no ciTrust input: the cloud trust must exist before the subject claim is customised' };
        ctx.logger.info(`OIDC subject claim of ${repoKey} left unchanged: ${oidcSubject.reason}`);
      } else {
        const claimKeys = checkTrustMatches(trust, { repositoryId, repositoryOwnerId, repoKey });
        const current = await orNotFound(octokit.rest.actions.getCustomOidcSubClaimForRepo({ owner: org, repo }));
        if (!oidcSubjectMatches(current?.data as any, claimKeys)) {
          await write(`OIDC subject claim: use_default false, keys ${claimKeys.join(',')}`, 'github-oidc-subject-set', 'high', { claimKeys, trust: trust.ref }, () =>
            octokit.rest.actions.setCustomOidcSubClaimForRepo({ owner: org, repo, use_default: false, include_claim_keys: claimKeys }),
          );
        }
        oidcSubject = { customised: true, claimKeys };
      }

      ctx.output('repositoryId', repositoryId);
      ctx.output('repositoryOwnerId', repositoryOwnerId);
      ctx.output('repository', { owner: org, name: repo, id: repositoryId, ownerId: repositoryOwnerId });
      ctx.output('defaultBranch', defaultBranch);
      ctx.output('teams', teams);
      if (rulesetId !== undefined) ctx.output('rulesetId', rulesetId);
      ctx.output('environments', environments);
      ctx.output('oidcSubject', oidcSubject);
      ctx.output('changes', changes);
      ctx.logger.info(`${ctx.isDryRun ? 'Dry run: would apply' : 'Applied'} ${changes.length} change(s) to ${repoKey}${changes.length ? `: ${changes.join('; ')}` : ''}`);
    },
  });
}
