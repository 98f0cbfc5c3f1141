import {
  codeownersContent,
  currentTeamPermission,
  desiredEnvironment,
  desiredRuleset,
  environmentMatches,
  oidcSubjectMatches,
  planVariables,
  rulesetMatches,
} from './configurePlan';

describe('configure plan: re-runs converge when GitHub already holds the desired state', () => {
  it('reads team permissions from role_name or permission flags', () => {
    expect(currentTeamPermission({ role_name: 'write' })).toBe('push');
    expect(currentTeamPermission({ role_name: 'read' })).toBe('pull');
    expect(
      currentTeamPermission({
        permissions: {
          admin: false,
          maintain: true,
          push: true,
          triage: true,
          pull: true,
        },
      }),
    ).toBe('maintain');
    expect(currentTeamPermission(undefined)).toBeUndefined();
  });

  it('matches a ruleset as GitHub returns it (extra fields, other order) and spots a weakened one', () => {
    const desired = desiredRuleset('r');
    const returned = {
      id: 7,
      name: 'r',
      source_type: 'Repository',
      target: 'branch',
      enforcement: 'active',
      bypass_actors: [],
      conditions: { ref_name: { exclude: [], include: ['~DEFAULT_BRANCH'] } },
      rules: [...desired.rules].reverse(),
      created_at: '2026-01-01T00:00:00Z',
    };
    expect(rulesetMatches(returned, desired)).toBe(true);
    expect(
      rulesetMatches({ ...returned, enforcement: 'evaluate' }, desired),
    ).toBe(false);
    expect(
      rulesetMatches(
        {
          ...returned,
          bypass_actors: [
            { actor_id: 1, actor_type: 'Team', bypass_mode: 'always' },
          ],
        },
        desired,
      ),
    ).toBe(false);
    const weakened = returned.rules.map(r =>
      r.type === 'pull_request'
        ? {
            ...r,
            parameters: { ...r.parameters, require_code_owner_review: false },
          }
        : r,
    );
    expect(rulesetMatches({ ...returned, rules: weakened }, desired)).toBe(
      false,
    );
  });

  it('matches an environment with exactly the owning team as reviewers', () => {
    const desired = desiredEnvironment(42);
    const env = {
      name: 'production',
      deployment_branch_policy: {
        protected_branches: true,
        custom_branch_policies: false,
      },
      protection_rules: [
        {
          type: 'required_reviewers',
          prevent_self_review: true,
          reviewers: [{ type: 'Team', reviewer: { id: 42 } }],
        },
      ],
    };
    expect(environmentMatches(env, desired)).toBe(true);
    expect(
      environmentMatches(
        {
          ...env,
          protection_rules: [
            {
              ...env.protection_rules[0],
              reviewers: [
                ...env.protection_rules[0].reviewers,
                { type: 'User', reviewer: { id: 1 } },
              ],
            },
          ],
        },
        desired,
      ),
    ).toBe(false);
    expect(
      environmentMatches({ ...env, deployment_branch_policy: null }, desired),
    ).toBe(false);
    expect(environmentMatches(undefined, desired)).toBe(false);
  });

  it('plans only missing or changed variables', () => {
    expect(
      planVariables(
        [
          { name: 'AWS_ROLE_ARN', value: 'a' },
          { name: 'OTHER', value: 'x' },
        ],
        { AWS_ROLE_ARN: 'a', SERVICE_ACCOUNT: 's' },
      ),
    ).toEqual([{ name: 'SERVICE_ACCOUNT', value: 's', op: 'create' }]);
    expect(
      planVariables([{ name: 'AWS_ROLE_ARN', value: 'old' }], {
        AWS_ROLE_ARN: 'new',
      }),
    ).toEqual([{ name: 'AWS_ROLE_ARN', value: 'new', op: 'update' }]);
    expect(
      planVariables([{ name: 'AWS_ROLE_ARN', value: 'a' }], {
        AWS_ROLE_ARN: 'a',
      }),
    ).toEqual([]);
  });

  it('matches the OIDC subject template only with use_default false and the same keys in order', () => {
    const keys = ['repository_owner_id', 'repository_id', 'context'];
    expect(
      oidcSubjectMatches(
        { use_default: false, include_claim_keys: keys },
        keys,
      ),
    ).toBe(true);
    expect(
      oidcSubjectMatches({ use_default: true, include_claim_keys: keys }, keys),
    ).toBe(false);
    expect(
      oidcSubjectMatches(
        { use_default: false, include_claim_keys: ['repo', 'context'] },
        keys,
      ),
    ).toBe(false);
  });

  it('CODEOWNERS names the org team on every path', () => {
    expect(
      codeownersContent('acme', 'ml-platform', 'group:default/ml-platform'),
    ).toMatch(/^\* @acme\/ml-platform$/m);
  });
});
