/**
 * The checks tensorflow:github:configure makes on its input beyond the JSON schema: the schema
 * (configure.ts) bounds lengths and patterns so the scaffolder refuses bad input first and the
 * template editor documents it; these functions re-check each value with an error naming the field
 * and the fix (the handler also runs without the scaffolder's validation), and check the CI trust
 * against the repository it is about to configure.
 */
import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { CI_SUBJECT_CLAIM_KEYS } from '../shared/github/oidc';

export const DEFAULT_RULESET_NAME = 'tensorflow-default-branch-review';
export const DEFAULT_ENVIRONMENTS = ['staging', 'production'];
export const MAX_ENVIRONMENTS = 20;
export const ENDPOINT_MAX = 1000;
export const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]{0,99}$/;
export const ENV_NAME = /^[A-Za-z0-9_.-]{1,255}$/;
export const TEAM_SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;
export const SERVICE_ACCOUNT = /^[A-Za-z0-9@._:/+=,-]{1,512}$/;
export const RULESET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9 ._-]{0,99}$/;
/** A ciTrust ref as tensorflow:identity:provision outputs it. */
export const TRUST_REF = /^(aws|gcp):\S+$/;

export interface CiTrustInput {
  ref: string;
  cloud: string;
  repositoryId: number;
  repositoryOwnerId: number;
  claimKeys: string[];
  variables?: Record<string, string>;
}

export function readTrust(value: unknown): CiTrustInput | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const t = value as Record<string, unknown>;
  if (
    typeof t.ref !== 'string' ||
    !TRUST_REF.test(t.ref) ||
    typeof t.repositoryId !== 'number' ||
    typeof t.repositoryOwnerId !== 'number' ||
    !Array.isArray(t.claimKeys)
  ) {
    throw new InputError(
      'ciTrust must be the ciTrust output of tensorflow:identity:provision (${{ steps.identity.output.ciTrust }})',
    );
  }
  return t as unknown as CiTrustInput;
}

export interface ConfigureInputs {
  environments: string[];
  rulesetName: string;
  trust?: CiTrustInput;
  /** Create or update the ruleset now (default true). */
  applyRuleset: boolean;
  /** GitHub team slug of a group: teamSlugs, else the group's name. */
  slugOf: (group: string) => string;
}

/** Everything but the project (deriveProject) and the grants (computeGrants), with defaults applied. */
export function checkConfigureInputs(input: {
  environments?: unknown;
  rulesetName?: unknown;
  teamSlugs?: unknown;
  serviceAccount?: unknown;
  endpoint?: unknown;
  ciTrust?: unknown;
  ruleset?: unknown;
}): ConfigureInputs {
  const environments = (input.environments ??
    DEFAULT_ENVIRONMENTS) as unknown[];
  if (!Array.isArray(environments) || environments.length > MAX_ENVIRONMENTS) {
    throw new InputError(
      `environments must be a list of at most ${MAX_ENVIRONMENTS} environment names, e.g. ["staging", "production"]`,
    );
  }
  environments.forEach((e, i) => {
    if (typeof e !== 'string' || !ENV_NAME.test(e)) {
      throw new InputError(
        `environments[${i}] "${String(e).slice(0, 40)}" is not a valid environment name: use letters, digits, _ . - (e.g. "staging")`,
      );
    }
  });
  const rulesetName = input.rulesetName ?? DEFAULT_RULESET_NAME;
  if (typeof rulesetName !== 'string' || !RULESET_NAME.test(rulesetName)) {
    throw new InputError(
      `rulesetName "${String(rulesetName).slice(0, 40)}" is not a ruleset name: use up to 100 letters, digits, spaces, _ . -, e.g. "${DEFAULT_RULESET_NAME}"`,
    );
  }
  const teamSlugs = (input.teamSlugs ?? {}) as Record<string, unknown>;
  if (
    typeof teamSlugs !== 'object' ||
    teamSlugs === null ||
    Array.isArray(teamSlugs)
  ) {
    throw new InputError(
      'teamSlugs must be an object of group ref -> GitHub team slug, e.g. { "group:default/ml-platform": "ml-platform" }',
    );
  }
  for (const [group, slug] of Object.entries(teamSlugs)) {
    if (typeof slug !== 'string' || !TEAM_SLUG.test(slug)) {
      throw new InputError(
        `teamSlugs.${group.slice(0, 80)}: "${String(slug).slice(0, 40)}" is not a GitHub team slug; use lowercase letters, digits, _ and -`,
      );
    }
  }
  if (
    input.serviceAccount !== undefined &&
    (typeof input.serviceAccount !== 'string' ||
      !SERVICE_ACCOUNT.test(input.serviceAccount))
  ) {
    throw new InputError(
      `serviceAccount "${String(input.serviceAccount).slice(0, 40)}" is not a service account reference: use up to 512 of A-Z a-z 0-9 @ . _ : / + = , -, e.g. the identity step's serviceAccount.ref`,
    );
  }
  if (input.endpoint !== undefined) checkEndpoint(input.endpoint);
  const trust = readTrust(input.ciTrust);
  const slugOf = (group: string) => {
    const slug =
      (teamSlugs[group] as string | undefined) ??
      parseEntityRef(group).name.toLowerCase();
    if (!TEAM_SLUG.test(slug))
      throw new InputError(
        `teamSlugs.${group}: "${slug}" is not a GitHub team slug`,
      );
    return slug;
  };
  const applyRuleset = input.ruleset ?? true;
  if (typeof applyRuleset !== 'boolean')
    throw new InputError('ruleset must be true or false (default true)');
  return {
    environments: environments as string[],
    rulesetName,
    trust,
    applyRuleset,
    slugOf,
  };
}

function checkEndpoint(endpoint: unknown): void {
  let url: URL | undefined;
  try {
    url =
      typeof endpoint === 'string' && endpoint.length <= ENDPOINT_MAX
        ? new URL(endpoint)
        : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new InputError(
      `endpoint "${String(endpoint).slice(0, 40)}" must be an http(s) URL of at most ${ENDPOINT_MAX} characters, e.g. the serving step's gatewayUrl`,
    );
  }
}

/** The environment variables to set: upper-case names, non-empty values of at most 1000 characters. */
export function checkVariables(
  variables: Record<string, string>,
): Record<string, string> {
  for (const [k, v] of Object.entries(variables)) {
    if (!VARIABLE_NAME.test(k))
      throw new InputError(
        `variable name "${k.slice(0, 40)}" must be upper-case letters, digits and _`,
      );
    if (typeof v !== 'string' || v.length === 0 || v.length > 1000)
      throw new InputError(`variable ${k} must be a non-empty string`);
  }
  return variables;
}

/**
 * The CI trust must pin this very repository and the claim keys this action sets; returns those keys.
 */
export function checkTrustMatches(
  trust: CiTrustInput,
  repo: { repositoryId: number; repositoryOwnerId: number; repoKey: string },
): string[] {
  if (
    trust.repositoryId !== repo.repositoryId ||
    trust.repositoryOwnerId !== repo.repositoryOwnerId
  ) {
    throw new InputError(
      `ciTrust ${trust.ref} pins repository ${trust.repositoryOwnerId}/${trust.repositoryId}, but ${repo.repoKey} is ${repo.repositoryOwnerId}/${repo.repositoryId}; re-run tensorflow:identity:provision with this repository's ids before customising its OIDC subject`,
    );
  }
  const claimKeys = [...CI_SUBJECT_CLAIM_KEYS] as string[];
  if (JSON.stringify(trust.claimKeys) !== JSON.stringify(claimKeys)) {
    throw new InputError(
      `ciTrust ${trust.ref} expects claim keys ${trust.claimKeys.join(',')}; this action sets ${claimKeys.join(',')}: re-run tensorflow:identity:provision`,
    );
  }
  return claimKeys;
}
