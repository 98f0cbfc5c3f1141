import { InputError } from '@backstage/errors';
import { mockServices } from '@backstage/backend-test-utils';
import { CI_SUBJECT_CLAIM_KEYS } from '../shared/github/oidc';
import { desiredRuleset } from './configurePlan';
import {
  CODEOWNERS_PATH,
  configureCodeowners,
  configureOidcSubject,
  configureRuleset,
  configureTeams,
  type StepTarget,
  type Write,
} from './configureSteps';

/** A recording write, as the handler's in a real run: every change is listed and its effect runs. */
function recordingWrite() {
  const calls: Array<{ label: string; eventId: string; meta: unknown }> = [];
  const write: Write = async (
    label,
    eventId,
    _severity,
    meta,
    effect,
    keep,
  ) => {
    calls.push({ label, eventId, meta });
    const result = await effect();
    return keep ? keep(result) : undefined;
  };
  return { calls, write };
}

const notFound = () =>
  Promise.reject(Object.assign(new Error('Not Found'), { status: 404 }));

function target(rest: Record<string, Record<string, jest.Mock>>): StepTarget {
  return {
    octokit: { rest } as any,
    org: 'acme',
    repo: 'fraud-detector',
    repoKey: 'acme/fraud-detector',
  };
}

const ctx = {
  logger: mockServices.logger.mock(),
  user: { ref: 'user:default/alice' },
};

describe('configure steps', () => {
  it('teams: grants a missing team (404 reads as none) and leaves a matching one alone', async () => {
    const addOrUpdateRepoPermissionsInOrg = jest.fn().mockResolvedValue({});
    const checkPermissionsForRepoInOrg = jest.fn(({ team_slug }) =>
      team_slug === 'ml-platform'
        ? notFound()
        : Promise.resolve({ data: { role_name: 'read' } }),
    );
    const { calls, write } = recordingWrite();
    const grants = {
      github: [
        {
          group: 'group:default/ml-platform',
          permission: 'push' as const,
          scopes: ['owner'],
        },
        {
          group: 'group:default/readers',
          permission: 'pull' as const,
          scopes: ['read'],
        },
      ],
    };
    const teams = await configureTeams(
      target({
        teams: {
          checkPermissionsForRepoInOrg,
          addOrUpdateRepoPermissionsInOrg,
        },
      }),
      grants,
      g => g.split('/')[1],
      write,
    );
    expect(teams).toEqual([
      {
        group: 'group:default/ml-platform',
        team: 'ml-platform',
        permission: 'push',
      },
      { group: 'group:default/readers', team: 'readers', permission: 'pull' },
    ]);
    expect(calls.map(c => [c.label, c.eventId])).toEqual([
      ['team ml-platform: none -> push', 'github-team-permission-set'],
    ]);
    expect(addOrUpdateRepoPermissionsInOrg).toHaveBeenCalledWith({
      org: 'acme',
      team_slug: 'ml-platform',
      owner: 'acme',
      repo: 'fraud-detector',
      permission: 'push',
    });
  });

  it('CODEOWNERS: refuses a directory at the path, without writing', async () => {
    const getContent = jest
      .fn()
      .mockResolvedValue({ data: [{ name: 'CODEOWNERS' }] });
    const { calls, write } = recordingWrite();
    await expect(
      configureCodeowners(
        target({ repos: { getContent } }),
        ctx,
        { name: 'fraud-detector', owner: 'group:default/ml-platform' },
        'ml-platform',
        'main',
        write,
      ),
    ).rejects.toThrow(InputError);
    expect(getContent).toHaveBeenCalledWith({
      owner: 'acme',
      repo: 'fraud-detector',
      path: CODEOWNERS_PATH,
      ref: 'main',
    });
    expect(calls).toEqual([]);
  });

  it('ruleset: deferred reads nothing; absent is created and its id kept; a matching one is left alone', async () => {
    const getRepoRulesets = jest.fn().mockResolvedValue({ data: [] });
    const createRepoRuleset = jest.fn().mockResolvedValue({ data: { id: 42 } });
    const deferred = recordingWrite();
    expect(
      await configureRuleset(
        target({ repos: { getRepoRulesets, createRepoRuleset } }),
        ctx,
        'r',
        false,
        deferred.write,
      ),
    ).toBeUndefined();
    expect(getRepoRulesets).not.toHaveBeenCalled();
    expect(deferred.calls).toEqual([]);

    const created = recordingWrite();
    expect(
      await configureRuleset(
        target({ repos: { getRepoRulesets, createRepoRuleset } }),
        ctx,
        'r',
        true,
        created.write,
      ),
    ).toBe(42);
    expect(created.calls.map(c => c.label)).toEqual(['ruleset r: create']);

    const existing = { id: 7, name: 'r', source_type: 'Repository' };
    const kept = recordingWrite();
    const repos = {
      getRepoRulesets: jest.fn().mockResolvedValue({ data: [existing] }),
      getRepoRuleset: jest
        .fn()
        .mockResolvedValue({ data: { ...existing, ...desiredRuleset('r') } }),
      updateRepoRuleset: jest.fn(),
    };
    expect(
      await configureRuleset(target({ repos }), ctx, 'r', true, kept.write),
    ).toBe(7);
    expect(kept.calls).toEqual([]);
    expect(repos.updateRepoRuleset).not.toHaveBeenCalled();
  });

  it('OIDC subject: unchanged without a trust; with a trust for another repository refused; otherwise customised', async () => {
    const ids = { repositoryId: 1, repositoryOwnerId: 2 };
    const setCustomOidcSubClaimForRepo = jest.fn().mockResolvedValue({});
    const t = target({
      actions: {
        getCustomOidcSubClaimForRepo: jest.fn(notFound),
        setCustomOidcSubClaimForRepo,
      },
    });
    const { calls, write } = recordingWrite();

    expect(await configureOidcSubject(t, ctx, undefined, ids, write)).toEqual({
      customised: false,
      reason: expect.stringContaining('no ciTrust input'),
    });

    const trust = {
      ref: 'gcp:pool/provider',
      cloud: 'gcp',
      repositoryId: 1,
      repositoryOwnerId: 2,
      claimKeys: [...CI_SUBJECT_CLAIM_KEYS],
    };
    await expect(
      configureOidcSubject(t, ctx, { ...trust, repositoryId: 9 }, ids, write),
    ).rejects.toThrow(/pins repository 2\/9/);
    expect(calls).toEqual([]);

    expect(await configureOidcSubject(t, ctx, trust, ids, write)).toEqual({
      customised: true,
      claimKeys: [...CI_SUBJECT_CLAIM_KEYS],
    });
    expect(calls.map(c => c.eventId)).toEqual(['github-oidc-subject-set']);
    expect(setCustomOidcSubClaimForRepo).toHaveBeenCalledWith({
      owner: 'acme',
      repo: 'fraud-detector',
      use_default: false,
      include_claim_keys: [...CI_SUBJECT_CLAIM_KEYS],
    });
  });
});
