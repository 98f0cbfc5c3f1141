/**
 * Pure planning for tensorflow:github:configure: desired repository settings as
 * objects, and comparisons with what GitHub reports, so re-runs converge
 * (nothing is written when GitHub already holds the desired state).
 */
import type { GithubPermission } from '../access/config';

export type RepoPermission = Exclude<GithubPermission, 'none'>;

/** The permission GitHub reports for a team on a repository (team-repository object). */
export function currentTeamPermission(
  teamRepo:
    { role_name?: string; permissions?: Record<string, boolean> } | undefined,
): RepoPermission | undefined {
  if (!teamRepo) return undefined;
  const byRole: Record<string, RepoPermission> = {
    read: 'pull',
    pull: 'pull',
    triage: 'triage',
    write: 'push',
    push: 'push',
    maintain: 'maintain',
    admin: 'admin',
  };
  if (teamRepo.role_name && byRole[teamRepo.role_name])
    return byRole[teamRepo.role_name];
  const p = teamRepo.permissions ?? {};
  for (const k of ['admin', 'maintain', 'push', 'triage', 'pull'] as const)
    if (p[k]) return k;
  return undefined;
}

export function codeownersContent(
  org: string,
  teamSlug: string,
  ownerRef: string,
): string {
  return [
    '# Managed by Backstage (tensorflow:github:configure); changes are overwritten on the next run.',
    `# Owning group: ${ownerRef}`,
    `* @${org}/${teamSlug}`,
    '',
  ].join('\n');
}

export interface RulesetBody {
  name: string;
  target: 'branch';
  enforcement: 'active';
  bypass_actors: never[];
  conditions: { ref_name: { include: string[]; exclude: string[] } };
  rules: Array<{ type: string; parameters?: Record<string, unknown> }>;
}

/** Default-branch ruleset: code-owner review required, no deletion, no force push, no bypass. */
export function desiredRuleset(name: string): RulesetBody {
  return {
    name,
    target: 'branch',
    enforcement: 'active',
    bypass_actors: [],
    conditions: { ref_name: { include: ['~DEFAULT_BRANCH'], exclude: [] } },
    rules: [
      { type: 'deletion' },
      { type: 'non_fast_forward' },
      {
        type: 'pull_request',
        parameters: {
          dismiss_stale_reviews_on_push: true,
          require_code_owner_review: true,
          require_last_push_approval: true,
          required_approving_review_count: 1,
          required_review_thread_resolution: false,
        },
      },
    ],
  };
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map(k => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** True when an existing ruleset already enforces exactly the desired rules. */
export function rulesetMatches(
  existing: Record<string, any> | undefined,
  desired: RulesetBody,
): boolean {
  if (!existing) return false;
  const pick = (r: Record<string, any>) => ({
    target: r.target ?? 'branch',
    enforcement: r.enforcement,
    bypass_actors: r.bypass_actors ?? [],
    conditions: {
      ref_name: {
        include: r.conditions?.ref_name?.include ?? [],
        exclude: r.conditions?.ref_name?.exclude ?? [],
      },
    },
    rules: [...(r.rules ?? [])]
      .map((x: Record<string, any>) => ({
        type: x.type,
        parameters: x.parameters ?? {},
      }))
      .sort((a, b) => String(a.type).localeCompare(String(b.type))),
  });
  return (
    JSON.stringify(canonical(pick(existing))) ===
    JSON.stringify(canonical(pick(desired as unknown as Record<string, any>)))
  );
}

export interface EnvironmentBody {
  wait_timer: number;
  prevent_self_review: boolean;
  reviewers: Array<{ type: 'Team'; id: number }>;
  deployment_branch_policy: {
    protected_branches: boolean;
    custom_branch_policies: boolean;
  };
}

export function desiredEnvironment(teamId: number): EnvironmentBody {
  return {
    wait_timer: 0,
    prevent_self_review: true,
    reviewers: [{ type: 'Team', id: teamId }],
    deployment_branch_policy: {
      protected_branches: true,
      custom_branch_policies: false,
    },
  };
}

/** True when a listed environment already has exactly the owning team as required reviewers and protected-branch deploys. */
export function environmentMatches(
  existing: Record<string, any> | undefined,
  desired: EnvironmentBody,
): boolean {
  if (!existing) return false;
  const rules: Record<string, any>[] = existing.protection_rules ?? [];
  const reviewers = rules.find(r => r.type === 'required_reviewers');
  const wait = rules.find(r => r.type === 'wait_timer');
  const ids = (reviewers?.reviewers ?? [])
    .map((r: Record<string, any>) => `${r.type}:${r.reviewer?.id}`)
    .sort();
  const want = desired.reviewers.map(r => `${r.type}:${r.id}`).sort();
  return (
    JSON.stringify(ids) === JSON.stringify(want) &&
    reviewers?.prevent_self_review === desired.prevent_self_review &&
    (wait?.wait_timer ?? 0) === desired.wait_timer &&
    existing.deployment_branch_policy?.protected_branches ===
      desired.deployment_branch_policy.protected_branches &&
    existing.deployment_branch_policy?.custom_branch_policies ===
      desired.deployment_branch_policy.custom_branch_policies
  );
}

export type VariableChange = {
  name: string;
  value: string;
  op: 'create' | 'update';
};

/** Variables to create or update so the environment holds `desired`; others are left alone. */
export function planVariables(
  existing: Array<{ name: string; value: string }>,
  desired: Record<string, string>,
): VariableChange[] {
  const byName = new Map(existing.map(v => [v.name.toUpperCase(), v.value]));
  const out: VariableChange[] = [];
  for (const name of Object.keys(desired).sort()) {
    const current = byName.get(name.toUpperCase());
    if (current === undefined)
      out.push({ name, value: desired[name], op: 'create' });
    else if (current !== desired[name])
      out.push({ name, value: desired[name], op: 'update' });
  }
  return out;
}

export function oidcSubjectMatches(
  existing:
    { use_default?: boolean; include_claim_keys?: string[] } | undefined,
  claimKeys: string[],
): boolean {
  return (
    !!existing &&
    existing.use_default === false &&
    JSON.stringify(existing.include_claim_keys ?? []) ===
      JSON.stringify(claimKeys)
  );
}

/**
 * The environment variables tensorflow:github:configure sets: exactly the CI contract's values that
 * tensorflow:identity:provision computed (ciTrust.variables), plus the optional informational
 * SERVICE_ACCOUNT / MODEL_ENDPOINT only when a caller passes them (the create-model template does not:
 * the workflow reads neither; actions/identity/ciContract.ts).
 */
export function desiredVariables(
  trustVariables: Record<string, string> | undefined,
  extra: { serviceAccount?: string; endpoint?: string } = {},
): Record<string, string> {
  const variables: Record<string, string> = { ...(trustVariables ?? {}) };
  if (extra.serviceAccount) variables.SERVICE_ACCOUNT = extra.serviceAccount;
  if (extra.endpoint) variables.MODEL_ENDPOINT = extra.endpoint;
  return variables;
}
