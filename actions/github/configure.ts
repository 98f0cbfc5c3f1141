import { createHash } from 'node:crypto';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { ScmIntegrationRegistry } from '@backstage/integration';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject, JsonValue } from '@backstage/types';
import { assertRepositoryBound, PROVISIONING_RECORD_FILE } from '../access/binding';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { GITHUB_PERMISSIONS, type AccessPolicy } from '../access/config';
import { computeGrants, grantsInput, normaliseRequestedGrants } from '../access/grants';
import { CI_SUBJECT_CLAIM_KEYS } from '../shared/github/oidc';
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
import { examples } from './configure.examples';

export const GITHUB_CONFIGURE_ACTION_ID = 'tensorflow:github:configure';
export const CODEOWNERS_PATH = '.github/CODEOWNERS';
export const DEFAULT_RULESET_NAME = 'tensorflow-default-branch-review';

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

const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]{0,99}$/;
const ENV_NAME = /^[A-Za-z0-9_.-]{1,255}$/;
const TEAM_SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const SERVICE_ACCOUNT = /^[A-Za-z0-9@._:/+=,-]{1,512}$/;

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

interface CiTrustInput {
  ref: string;
  cloud: string;
  repositoryId: number;
  repositoryOwnerId: number;
  claimKeys: string[];
  variables?: Record<string, string>;
}

function readTrust(value: unknown): CiTrustInput | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const t = value as Record<string, unknown>;
  if (
    typeof t.ref !== 'string' ||
    !/^(aws|gcp):\S+$/.test(t.ref) ||
    typeof t.repositoryId !== 'number' ||
    typeof t.repositoryOwnerId !== 'number' ||
    !Array.isArray(t.claimKeys)
  ) {
    throw new InputError('ciTrust must be the ciTrust output of tensorflow:identity:provision (${{ steps.identity.output.ciTrust }})');
  }
  return t as unknown as CiTrustInput;
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
          repoUrl: z.string().describe('github.com?owner=<org>&repo=<repo>'),
          name: projectName(z),
          owner: projectOwner(z).describe('Owning group entity ref; its GitHub team (same slug) becomes code owner and reviewer'),
          grants: grantsInput(z),
          teamSlugs: z.record(z.string(), z.string()).optional().describe('GitHub team slug per group ref when it differs from the group name'),
          environments: z.array(z.string()).optional().describe('Default: staging, production'),
          serviceAccount: z.string().optional().describe('Service account reference for the SERVICE_ACCOUNT variable'),
          endpoint: z.string().optional().describe('Serving endpoint URL for the MODEL_ENDPOINT variable'),
          ciTrust: z
            .union([z.literal(''), z.object({
              ref: z.string(),
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
          rulesetName: z.string().optional().describe(`Default: ${DEFAULT_RULESET_NAME}`),
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
      const environments = input.environments ?? ['staging', 'production'];
      if (!Array.isArray(environments) || environments.length > 20) {
        throw new InputError('environments must be a list of at most 20 environment names, e.g. ["staging", "production"]');
      }
      environments.forEach((e, i) => {
        if (typeof e !== 'string' || !ENV_NAME.test(e)) {
          throw new InputError(`environments[${i}] "${String(e).slice(0, 40)}" is not a valid environment name: use letters, digits, _ . - (e.g. "staging")`);
        }
      });
      const rulesetName = input.rulesetName ?? DEFAULT_RULESET_NAME;
      if (typeof rulesetName !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9 ._-]{0,99}$/.test(rulesetName)) {
        throw new InputError(`rulesetName "${String(rulesetName).slice(0, 40)}" is not a ruleset name: use up to 100 letters, digits, spaces, _ . -, e.g. "${DEFAULT_RULESET_NAME}"`);
      }
      const teamSlugs = input.teamSlugs ?? {};
      if (typeof teamSlugs !== 'object' || teamSlugs === null || Array.isArray(teamSlugs)) {
        throw new InputError('teamSlugs must be an object of group ref -> GitHub team slug, e.g. { "group:default/ml-platform": "ml-platform" }');
      }
      for (const [group, slug] of Object.entries(teamSlugs)) {
        if (typeof slug !== 'string' || !TEAM_SLUG.test(slug)) {
          throw new InputError(`teamSlugs.${group.slice(0, 80)}: "${String(slug).slice(0, 40)}" is not a GitHub team slug; use lowercase letters, digits, _ and -`);
        }
      }
      if (input.serviceAccount !== undefined && (typeof input.serviceAccount !== 'string' || !SERVICE_ACCOUNT.test(input.serviceAccount))) {
        throw new InputError(
          `serviceAccount "${String(input.serviceAccount).slice(0, 40)}" is not a service account reference: use up to 512 of A-Z a-z 0-9 @ . _ : / + = , -, e.g. the identity step's serviceAccount.ref`,
        );
      }
      if (input.endpoint !== undefined) {
        let url: URL | undefined;
        try {
          url = typeof input.endpoint === 'string' && input.endpoint.length <= 1000 ? new URL(input.endpoint) : undefined;
        } catch {
          url = undefined;
        }
        if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
          throw new InputError(`endpoint "${String(input.endpoint).slice(0, 40)}" must be an http(s) URL of at most 1000 characters, e.g. the serving step's gatewayUrl`);
        }
      }
      const trust = readTrust(input.ciTrust);
      const slugOf = (group: string) => {
        const slug = teamSlugs[group] ?? parseEntityRef(group).name.toLowerCase();
        if (!TEAM_SLUG.test(slug)) throw new InputError(`teamSlugs.${group}: "${slug}" is not a GitHub team slug`);
        return slug;
      };

      const grants = computeGrants(access, project, normaliseRequestedGrants(input.grants));
      const ownerGrant = grants.github.find(g => g.group === project.owner);
      if (!ownerGrant || GITHUB_PERMISSIONS.indexOf(ownerGrant.permission) < GITHUB_PERMISSIONS.indexOf('push')) {
        throw new InputError(
          `the owning group ${project.owner} gets GitHub permission "${ownerGrant?.permission ?? 'none'}" from its default scopes; CODEOWNERS and required reviews need at least "push": include a scope with github.permission push or higher in tensorflow.access.rules.ownerDefaultScopes`,
        );
      }

      const variables = desiredVariables(trust?.variables, { serviceAccount: input.serviceAccount, endpoint: input.endpoint });
      for (const [k, v] of Object.entries(variables)) {
        if (!VARIABLE_NAME.test(k)) throw new InputError(`variable name "${k.slice(0, 40)}" must be upper-case letters, digits and _`);
        if (typeof v !== 'string' || v.length === 0 || v.length > 1000) throw new InputError(`variable ${k} must be a non-empty string`);
      }

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
      const applyRuleset = input.ruleset ?? true;
      if (typeof applyRuleset !== 'boolean') throw new InputError('ruleset must be true or false (default true)');
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
        if (trust.repositoryId !== repositoryId || trust.repositoryOwnerId !== repositoryOwnerId) {
          throw new InputError(
            `ciTrust ${trust.ref} pins repository ${trust.repositoryOwnerId}/${trust.repositoryId}, but ${repoKey} is ${repositoryOwnerId}/${repositoryId}; re-run tensorflow:identity:provision with this repository's ids before customising its OIDC subject`,
          );
        }
        const claimKeys = [...CI_SUBJECT_CLAIM_KEYS] as string[];
        if (JSON.stringify(trust.claimKeys) !== JSON.stringify(claimKeys)) {
          throw new InputError(`ciTrust ${trust.ref} expects claim keys ${trust.claimKeys.join(',')}; this action sets ${claimKeys.join(',')}: re-run tensorflow:identity:provision`);
        }
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
