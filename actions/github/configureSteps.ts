/**
 * The GitHub steps of tensorflow:github:configure, in the order the handler runs them. Each one reads
 * the repository's current state, compares it with the plan (configurePlan.ts) and hands every change
 * to `write`, which records it, and outside a dry run checkpoints and audits it.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import type { JsonObject, JsonValue } from '@backstage/types';
import type { ProjectGrants } from '../access/grants';
import type { GithubClient } from '../shared/github/client';
import {
  codeownersContent,
  currentTeamPermission,
  desiredEnvironment,
  desiredRuleset,
  environmentMatches,
  oidcSubjectMatches,
  planVariables,
  rulesetMatches,
  type RepoPermission,
} from './configurePlan';
import { checkTrustMatches, type CiTrustInput } from './configureInputs';

export const CODEOWNERS_PATH = '.github/CODEOWNERS';

/** One write: planned in dry run; otherwise checkpointed (retries skip it) and audited. */
export type Write = (
  label: string,
  eventId: string,
  severityLevel: 'medium' | 'high',
  meta: JsonObject,
  effect: () => Promise<unknown>,
  keep?: (result: any) => JsonValue,
) => Promise<JsonValue | undefined>;

/** The repository a step configures. */
export interface StepTarget {
  octokit: GithubClient;
  org: string;
  repo: string;
  /** `org/repo`, for messages. */
  repoKey: string;
}

/** What the steps use of the action context. */
export interface StepContext {
  logger: LoggerService;
  user?: { ref?: string };
}

export type TeamAccess = {
  group: string;
  team: string;
  permission: RepoPermission;
};
export type OidcSubject = {
  customised: boolean;
  claimKeys?: string[];
  reason?: string;
};

function status(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null
    ? (error as { status?: number }).status
    : undefined;
}
async function orNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    if (status(error) === 404) return undefined;
    throw error;
  }
}

/** 1. Team permissions per scope mapping; the owning team first, so it has write access before CODEOWNERS names it. */
export async function configureTeams(
  { octokit, org, repo }: StepTarget,
  grants: Pick<ProjectGrants, 'github'>,
  slugOf: (group: string) => string,
  write: Write,
): Promise<TeamAccess[]> {
  const teams: Array<{
    group: string;
    team: string;
    permission: RepoPermission;
  }> = [];
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
      await write(
        `team ${team}: ${have ?? 'none'} -> ${g.permission}`,
        'github-team-permission-set',
        'high',
        { team, group: g.group, permission: g.permission, scopes: g.scopes },
        () =>
          octokit.rest.teams.addOrUpdateRepoPermissionsInOrg({
            org,
            team_slug: team,
            owner: org,
            repo,
            permission: g.permission,
          }),
      );
    }
    teams.push({ group: g.group, team, permission: g.permission });
  }
  return teams;
}

/** 2. CODEOWNERS naming the owning team (which now has write access). */
export async function configureCodeowners(
  { octokit, org, repo, repoKey }: StepTarget,
  ctx: StepContext,
  project: { name: string; owner: string },
  ownerTeam: string,
  defaultBranch: string,
  write: Write,
): Promise<void> {
  const wanted = codeownersContent(org, ownerTeam, project.owner);
  const existing = await orNotFound(
    octokit.rest.repos.getContent({
      owner: org,
      repo,
      path: CODEOWNERS_PATH,
      ref: defaultBranch,
    }),
  );
  const file = existing?.data as
    | { type?: string; sha?: string; content?: string; encoding?: string }
    | unknown[]
    | undefined;
  if (
    Array.isArray(file) ||
    (file && file.type !== undefined && file.type !== 'file')
  ) {
    throw new InputError(
      `${CODEOWNERS_PATH} in ${repoKey} is not a file; remove it so CODEOWNERS can be written`,
    );
  }
  const currentText =
    file?.content !== undefined
      ? Buffer.from(file.content, 'base64').toString('utf8')
      : undefined;
  if (currentText !== wanted) {
    await write(
      `${CODEOWNERS_PATH}: ${file ? 'update' : 'create'} (owner @${org}/${ownerTeam})`,
      'github-codeowners-set',
      'high',
      { path: CODEOWNERS_PATH, team: ownerTeam },
      () =>
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
}

/**
 * 3. Ruleset on the default branch requiring code-owner review (look before create; update in place).
 * Deferred (ruleset: false) while later steps still commit to the default branch (docs/github.md).
 */
export async function configureRuleset(
  { octokit, org, repo }: StepTarget,
  ctx: StepContext,
  rulesetName: string,
  applyRuleset: boolean,
  write: Write,
): Promise<number | undefined> {
  const ruleset = desiredRuleset(rulesetName);
  const { data: rulesets } = applyRuleset
    ? await octokit.rest.repos.getRepoRulesets({
        owner: org,
        repo,
        per_page: 100,
        includes_parents: false,
      })
    : { data: [] };
  const found = rulesets.find(
    r => r.name === rulesetName && r.source_type !== 'Organization',
  );
  let rulesetId = found?.id;
  if (!applyRuleset) {
    ctx.logger.info(
      `Ruleset ${rulesetName} deferred (ruleset: false): a later step applies it once the default branch needs no more direct commits`,
    );
  } else if (found) {
    const { data: detail } = await octokit.rest.repos.getRepoRuleset({
      owner: org,
      repo,
      ruleset_id: found.id,
    });
    if (!rulesetMatches(detail as any, ruleset)) {
      await write(
        `ruleset ${rulesetName} (#${found.id}): update`,
        'github-ruleset-set',
        'high',
        { ruleset: rulesetName, id: found.id },
        () =>
          octokit.rest.repos.updateRepoRuleset({
            owner: org,
            repo,
            ruleset_id: found.id,
            ...(ruleset as any),
          }),
      );
    }
  } else {
    const created = await write(
      `ruleset ${rulesetName}: create`,
      'github-ruleset-set',
      'high',
      { ruleset: rulesetName },
      () =>
        octokit.rest.repos.createRepoRuleset({
          owner: org,
          repo,
          ...(ruleset as any),
        }),
      res => res.data.id,
    );
    if (typeof created === 'number') rulesetId = created;
  }
  return rulesetId;
}

/** 4. Environments with the owning team as required reviewers, and their non-secret variables. */
export async function configureEnvironments(
  { octokit, org, repo }: StepTarget,
  environments: string[],
  ownerTeam: string,
  variables: Record<string, string>,
  write: Write,
): Promise<void> {
  const { data: team } = await octokit.rest.teams.getByName({
    org,
    team_slug: ownerTeam,
  });
  const envBody = desiredEnvironment(team.id);
  const { data: envList } = await octokit.rest.repos.getAllEnvironments({
    owner: org,
    repo,
    per_page: 100,
  });
  for (const env of environments) {
    const current = (envList.environments ?? []).find(e => e.name === env);
    if (!environmentMatches(current as any, envBody)) {
      await write(
        `environment ${env}: ${current ? 'update' : 'create'} (reviewers @${org}/${ownerTeam})`,
        'github-environment-set',
        'high',
        { environment: env, team: ownerTeam },
        () =>
          octokit.rest.repos.createOrUpdateEnvironment({
            owner: org,
            repo,
            environment_name: env,
            ...envBody,
          }),
      );
    }
    const present = current
      ? (
          await octokit.rest.actions.listEnvironmentVariables({
            owner: org,
            repo,
            environment_name: env,
            per_page: 30,
          })
        ).data.variables
      : [];
    for (const change of planVariables(present, variables)) {
      await write(
        `environment ${env}: variable ${change.name} ${change.op}`,
        'github-variable-set',
        'medium',
        { environment: env, variable: change.name },
        () =>
          change.op === 'create'
            ? octokit.rest.actions.createEnvironmentVariable({
                owner: org,
                repo,
                environment_name: env,
                name: change.name,
                value: change.value,
              })
            : octokit.rest.actions.updateEnvironmentVariable({
                owner: org,
                repo,
                environment_name: env,
                name: change.name,
                value: change.value,
              }),
      );
    }
  }
}

/** 5. OIDC subject claim: only after the matching cloud trust exists, and only for this repository. */
export async function configureOidcSubject(
  { octokit, org, repo, repoKey }: StepTarget,
  ctx: StepContext,
  trust: CiTrustInput | undefined,
  ids: { repositoryId: number; repositoryOwnerId: number },
  write: Write,
): Promise<OidcSubject> {
  const { repositoryId, repositoryOwnerId } = ids;
  let oidcSubject: {
    customised: boolean;
    claimKeys?: string[];
    reason?: string;
  };
  if (!trust) {
    oidcSubject = {
      customised: false,
      reason:
        'no ciTrust input: the cloud trust must exist before the subject claim is customised',
    };
    ctx.logger.info(
      `OIDC subject claim of ${repoKey} left unchanged: ${oidcSubject.reason}`,
    );
  } else {
    const claimKeys = checkTrustMatches(trust, {
      repositoryId,
      repositoryOwnerId,
      repoKey,
    });
    const current = await orNotFound(
      octokit.rest.actions.getCustomOidcSubClaimForRepo({ owner: org, repo }),
    );
    if (!oidcSubjectMatches(current?.data as any, claimKeys)) {
      await write(
        `OIDC subject claim: use_default false, keys ${claimKeys.join(',')}`,
        'github-oidc-subject-set',
        'high',
        { claimKeys, trust: trust.ref },
        () =>
          octokit.rest.actions.setCustomOidcSubClaimForRepo({
            owner: org,
            repo,
            use_default: false,
            include_claim_keys: claimKeys,
          }),
      );
    }
    oidcSubject = { customised: true, claimKeys };
  }
  return oidcSubject;
}
