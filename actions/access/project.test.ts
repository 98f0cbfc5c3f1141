import { execFileSync } from 'node:child_process';
import type { Entity } from '@backstage/catalog-model';
import { LocalClaimStore } from '../gitops/claims';
import { LocalGitOpsTarget } from '../gitops/local';
import { boundedName, deriveProject } from '../shared/naming';
import { claimRef, type ProjectClaim } from './claims';
import { authorizeProject, type ProjectActionContext } from './project';
import { testProjectAccess } from '../../test/support/access/project';

const naming = { namespacePrefix: 'ml-' };
const project = (name: string, owner = 'group:default/ml-platform') =>
  deriveProject({ name, owner }, naming);
const ctx = (
  user: string,
  task = 'task-1',
  isDryRun = false,
): ProjectActionContext => ({
  user: { ref: user },
  task: { id: task },
  isDryRun,
  getInitiatorCredentials: async () =>
    ({
      $$type: '@backstage/BackstageCredentials',
      principal: { type: 'user', userEntityRef: user },
    }) as any,
});
const JDOE = 'user:default/jdoe';
const ASMITH = 'user:default/asmith';
const BWONG = 'user:default/bwong'; // platform-admins
const action = 'tensorflow:test:act';

describe('authorizeProject', () => {
  it('claims an unclaimed project for the owner, audited at high severity, and lets the owner back in', async () => {
    const access = testProjectAccess();
    const first = await authorizeProject(access, ctx(JDOE), project('fraud'), {
      action,
      mode: 'create',
    });
    expect(first).toMatchObject({
      via: 'owner-member',
      claimed: true,
      claim: {
        project: 'fraud',
        owner: 'group:default/ml-platform',
        claimedBy: JDOE,
        taskId: 'task-1',
      },
    });
    expect(access.auditor.createEvent).toHaveBeenCalledWith(
      expect.objectContaining({
        eventId: 'model-project-claimed',
        severityLevel: 'high',
        meta: expect.objectContaining({
          initiator: JDOE,
          taskId: 'task-1',
          project: 'fraud',
        }),
      }),
    );
    // the same task again (a retry), and a later task using the project
    await expect(
      authorizeProject(access, ctx(JDOE), project('fraud'), {
        action,
        mode: 'create',
      }),
    ).resolves.toMatchObject({ claimed: false });
    await expect(
      authorizeProject(access, ctx(JDOE, 'task-2'), project('fraud'), {
        action,
        mode: 'use',
      }),
    ).resolves.toMatchObject({ claimed: false });
  });

  it('refuses another owner, naming the owner and the claim, even for an admin', async () => {
    const access = testProjectAccess();
    await authorizeProject(access, ctx(JDOE), project('fraud'), {
      action,
      mode: 'create',
    });
    for (const [user, owner] of [
      [ASMITH, 'group:default/data-science'],
      [JDOE, 'group:default/risk'],
      [BWONG, 'group:default/platform-admins'],
    ]) {
      await expect(
        authorizeProject(access, ctx(user, 'task-9'), project('fraud', owner), {
          action,
          mode: 'use',
        }),
      ).rejects.toMatchObject({
        name: 'NotAllowedError',
        message: expect.stringMatching(
          new RegExp(
            `model project "fraud" is owned by group:default/ml-platform \\(claimed .* by ${JDOE}, task task-1\\), not by ${owner}`,
          ),
        ),
      });
    }
  });

  it('create refuses a name its own owner already holds from another task', async () => {
    const access = testProjectAccess();
    await authorizeProject(access, ctx(JDOE), project('fraud'), {
      action,
      mode: 'create',
    });
    await expect(
      authorizeProject(access, ctx(JDOE, 'task-2'), project('fraud'), {
        action,
        mode: 'create',
      }),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining(
        'model project "fraud" already exists (claimed by group:default/ml-platform in task task-1',
      ),
    });
  });

  it('refuses a non-member before reading or writing any claim', async () => {
    const access = testProjectAccess();
    await expect(
      authorizeProject(access, ctx(ASMITH), project('fraud'), {
        action,
        mode: 'create',
      }),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(await access.claims.get('fraud')).toBeUndefined();
    expect(access.auditor.createEvent).not.toHaveBeenCalled();
  });

  it('lets an admin act for another owner on an unclaimed project, claiming it for that owner', async () => {
    const access = testProjectAccess();
    const r = await authorizeProject(
      access,
      ctx(BWONG),
      project('vision', 'group:default/data-science'),
      { action, mode: 'use' },
    );
    expect(r).toMatchObject({
      via: 'admin-scope',
      claim: { owner: 'group:default/data-science', claimedBy: BWONG },
    });
  });

  it('dry runs and check mode decide the same but never claim', async () => {
    const access = testProjectAccess();
    for (const [c, mode] of [
      [ctx(JDOE, 'dry', true), 'create'],
      [ctx(JDOE), 'check'],
    ] as const) {
      const r = await authorizeProject(access, c, project('fraud'), {
        action,
        mode,
      });
      expect(r.claimed).toBe(false);
      expect(r.claim).toBeUndefined();
    }
    expect(await access.claims.get('fraud')).toBeUndefined();
    await authorizeProject(access, ctx(JDOE), project('fraud'), {
      action,
      mode: 'create',
    });
    await expect(
      authorizeProject(
        access,
        ctx(ASMITH, 'dry', true),
        project('fraud', 'group:default/data-science'),
        { action, mode: 'create' },
      ),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
    });
  });

  it('a project made before claims: its catalog owner decides', async () => {
    const legacy: Entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Resource',
      metadata: { name: 'churn-model', namespace: 'default' },
      spec: { type: 'ai-model', owner: 'ml-platform' },
    };
    const access = testProjectAccess({ entities: [legacy] });
    await expect(
      authorizeProject(
        access,
        ctx(ASMITH),
        project('churn', 'group:default/data-science'),
        { action, mode: 'use' },
      ),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringContaining(
        'resource:default/churn-model already exists in the catalog, owned by ml-platform',
      ),
    });
    await expect(
      authorizeProject(access, ctx(JDOE), project('churn'), {
        action,
        mode: 'create',
      }),
    ).rejects.toMatchObject({ name: 'ConflictError' });
    await expect(
      authorizeProject(access, ctx(JDOE), project('churn'), {
        action,
        mode: 'use',
      }),
    ).resolves.toMatchObject({ claimed: true });
  });
});

describe('LocalClaimStore', () => {
  it('of many concurrent claims for one name from two stores on one repository, exactly one wins', async () => {
    const { gitopsPath } = testProjectAccess();
    const stores = [0, 1].map(
      () => new LocalClaimStore(new LocalGitOpsTarget({ path: gitopsPath })),
    );
    const claim = (i: number): ProjectClaim => ({
      project: 'contested',
      owner: `group:default/team-${i}`,
      claimedBy: `user:default/u${i}`,
      taskId: `task-${i}`,
      claimedAt: '2026-12-02T00:00:00.000Z',
    });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => stores[i % 2].create(claim(i))),
    );
    const winners = results.filter(r => r.created);
    expect(winners).toHaveLength(1);
    for (const r of results) expect(r.claim).toEqual(winners[0].claim);
    const body = execFileSync(
      'git',
      ['log', '-1', '--format=%B', claimRef('contested')],
      { cwd: gitopsPath, encoding: 'utf8' },
    );
    expect(body).toContain(`"owner":"${winners[0].claim.owner}"`);
    // the claim is a ref of its own: no branch moved
    expect(
      execFileSync('git', ['for-each-ref', '--format=%(refname)'], {
        cwd: gitopsPath,
        encoding: 'utf8',
      })
        .trim()
        .split('\n'),
    ).toEqual(['refs/heads/main', 'refs/tensorflow/claims/contested']);
  });

  it('reading never creates the repository', async () => {
    const { gitopsPath, claims } = testProjectAccess();
    expect(await claims.get('nothing')).toBeUndefined();
    expect(require('node:fs').readdirSync(gitopsPath)).toEqual([]);
  });
});

describe('derived names', () => {
  it('refuses names whose derived names would collide with another project', () => {
    expect(() => project('fraud-endpoint')).toThrow(
      /ends with "-endpoint", which is reserved: project "fraud" names its endpoint "fraud-endpoint"/,
    );
    expect(() => project('a'.repeat(53))).toThrow(/at most 52/);
    expect(project('a'.repeat(52)).serviceAccount).toBe(
      `${'a'.repeat(52)}-serving`,
    );
  });

  it('bounded cloud names: short names stay readable and shorter than the limit, long ones are exactly the limit', () => {
    expect(boundedName('tf-', 'fraud', 30)).toBe('tf-fraud');
    const long = 'fraud-detector-for-card-payments';
    const bounded = boundedName('tf-', long, 30);
    expect(bounded).toHaveLength(30);
    expect(bounded).toMatch(/^tf-fraud-detector-[0-9a-z]{12}$/);
    // a short name spelled like another's bounded form is 30 characters only if it is not plain: the forms never meet
    const spoof = bounded.slice('tf-'.length);
    expect(boundedName('tf-', spoof, 30)).not.toBe(bounded);
    expect(boundedName('tf-', `${long}x`, 30)).not.toBe(bounded);
    expect(boundedName('tf-', long, 30)).toBe(bounded);
  });
});
