/**
 * The hostile tenant, through the real backend: a member of data-science (asmith) and a member
 * of ml-platform (jdoe) drive the real scaffolder API against the real catalog and the real
 * local targets. For every attempt on another team's project, the victim's repository HEAD,
 * every GitOps ref of the victim's project and the victim's entities are the same before and
 * after, and the refusal names the owner or the claim.
 */
import fs from 'node:fs';
import path from 'node:path';
import { mockCredentials } from '@backstage/backend-test-utils';
import type { JsonObject } from '@backstage/types';
import { git } from '../../actions/gitops/git';
import {
  api,
  startBackend,
  waitFor,
  waitForCatalog,
  waitForTask,
  type RunningBackend,
} from '../support/backend';
import { registerTemplateVariant } from '../support/faults';

jest.setTimeout(180_000);

const JDOE = 'user:default/jdoe'; // ml-platform, risk
const ASMITH = 'user:default/asmith'; // data-science
const CREATE = 'template:default/create-model';
const ENTITIES = (name: string) => [
  ['component', name],
  ['resource', `${name}-model`],
  ['component', `${name}-endpoint`],
  ['api', `${name}-api`],
  ['resource', `${name}-serving-sa`],
];

describe('one owner per model project (hostile tenant, real backend)', () => {
  let backend: RunningBackend;
  let registerFromForeignRepo: string;
  let publishToForeignRepo: string;
  const repos = () => path.join(backend.dataDir, 'repos');
  const gitops = () => path.join(backend.dataDir, 'gitops');

  const values = (
    name: string,
    owner: string,
    extra: JsonObject = {},
  ): JsonObject => ({
    name,
    description: `Model ${name}`,
    owner,
    grants: [{ group: 'group:default/risk', scopes: ['predict'] }],
    ...extra,
  });

  async function start(
    as: string,
    templateRef: string,
    input: JsonObject,
  ): Promise<string> {
    const r = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
      method: 'POST',
      json: { templateRef, values: input },
      headers: { authorization: mockCredentials.user.header(as) },
    });
    if (r.status !== 201)
      throw new Error(
        `task not created: ${r.status} ${JSON.stringify(r.body)}`,
      );
    return r.body.id;
  }
  const run = async (as: string, templateRef: string, input: JsonObject) =>
    waitForTask(backend.baseUrl, await start(as, templateRef, input), 120_000);
  const failedStep = (task: { events: any[] }) =>
    task.events
      .filter(e => e.type === 'log' && e.body?.status === 'failed')
      .map(e => e.body.stepId)[0];
  const startedSteps = (task: { events: any[] }) => [
    ...new Set(
      task.events
        .filter(e => e.type === 'log' && e.body?.status === 'processing')
        .map(e => e.body.stepId),
    ),
  ];

  /** Everything of project `name` that another team must not be able to change. */
  async function projectState(name: string) {
    const repo = path.join(repos(), name);
    const head = fs.existsSync(path.join(repo, '.git'))
      ? (
          await git(['rev-parse', 'HEAD'], { cwd: repo, okCodes: [128] })
        ).stdout.trim()
      : null;
    const tree = head
      ? (await git(['ls-tree', '-r', 'HEAD'], { cwd: repo })).stdout
      : null;
    const refs = fs.existsSync(gitops())
      ? (
          await git(['for-each-ref', '--format=%(refname) %(objectname)'], {
            cwd: gitops(),
          })
        ).stdout
          .trim()
          .split('\n')
          .filter(l => l.includes(`/${name} `))
      : [];
    const entities: Record<string, unknown> = {};
    for (const [kind, n] of ENTITIES(name)) {
      const r = await api(
        backend.baseUrl,
        `/api/catalog/entities/by-name/${kind}/default/${n}`,
      );
      entities[`${kind}:${n}`] =
        r.status === 200
          ? {
              spec: r.body.spec,
              annotations: r.body.metadata.annotations,
              etag: r.body.metadata.etag,
            }
          : null;
    }
    return { head, tree, refs, entities };
  }

  async function owned(name: string, owner: string) {
    await waitFor(`${name} entities owned by ${owner}`, async () => {
      for (const [kind, n] of ENTITIES(name)) {
        const r = await api(
          backend.baseUrl,
          `/api/catalog/entities/by-name/${kind}/default/${n}`,
        );
        if (r.status !== 200 || r.body.spec.owner !== owner) return undefined;
      }
      return true;
    });
  }

  beforeAll(async () => {
    backend = await startBackend();
    await waitForCatalog(backend.baseUrl);
    await waitFor('asmith in the catalog', async () =>
      (
        await api(
          backend.baseUrl,
          '/api/catalog/entities/by-name/user/default/asmith',
        )
      ).status === 200
        ? true
        : undefined,
    );
    // Register straight from a repository named by the wizard's repoUrl (no publish step).
    registerFromForeignRepo = await registerTemplateVariant(
      backend.baseUrl,
      path.join(backend.dataDir, 'templates'),
      'register-foreign-repo',
      t => {
        t.spec.steps = t.spec.steps.filter(
          (s: any) => !['publish', 'github', 'github-oidc'].includes(s.id),
        );
        const register = t.spec.steps.find((s: any) => s.id === 'register');
        delete register.input.repoContentsUrl;
        register.input.repoUrl = '${{ parameters.repoUrl }}';
        t.spec.output.links = t.spec.output.links.filter(
          (l: any) => !String(l.url ?? '').includes('steps.publish'),
        );
      },
    );
    // Publish and register to the repository the wizard's repoUrl names (as the GitHub branch does), on local targets.
    publishToForeignRepo = await registerTemplateVariant(
      backend.baseUrl,
      path.join(backend.dataDir, 'templates'),
      'publish-foreign-repo',
      t => {
        t.spec.steps = t.spec.steps.filter(
          (s: any) => !['github', 'github-oidc'].includes(s.id),
        );
        for (const step of t.spec.steps.filter((s: any) =>
          ['publish', 'register'].includes(s.id),
        ))
          step.input.repoUrl = '${{ parameters.repoUrl }}';
      },
    );
    const victim = await run(
      JDOE,
      CREATE,
      values('fraud-detector', 'group:default/ml-platform'),
    );
    // eslint-disable-next-line jest/no-standalone-expect -- the project the other tests attack must exist, or they prove nothing
    expect({ status: victim.status, error: victim.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    await owned('fraud-detector', 'group:default/ml-platform');
  });

  afterAll(async () => {
    await backend?.stop();
  });

  /** Runs `attempt`, requires it to fail, and the victim to be unchanged. */
  async function refused(
    attempt: () => Promise<{ status: string; error?: any; events: any[] }>,
    message: RegExp,
  ) {
    const before = await projectState('fraud-detector');
    const task = await attempt();
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(message);
    expect(await projectState('fraud-detector')).toEqual(before);
    return task;
  }

  it('a taken name with another owner: refused at the first step, naming the owner', async () => {
    const task = await refused(
      () =>
        run(
          ASMITH,
          CREATE,
          values('fraud-detector', 'group:default/data-science'),
        ),
      /model project "fraud-detector" is owned by group:default\/ml-platform .*not by group:default\/data-science/,
    );
    expect(failedStep(task)).toBe('create');
    expect(startedSteps(task)).toEqual(['create']);
  });

  it('a taken name, by a member of two groups choosing the other one: refused, and the name stays with its owner', async () => {
    const task = await refused(
      () => run(JDOE, CREATE, values('fraud-detector', 'group:default/risk')),
      /owned by group:default\/ml-platform .*not by group:default\/risk/,
    );
    expect(startedSteps(task)).toEqual(['create']);
  });

  // eslint-disable-next-line jest/expect-expect -- refused() holds the assertions (failed, with the message, project unchanged)
  it('the same name again by the owner: Create new model only makes new projects', async () => {
    await refused(
      () =>
        run(
          JDOE,
          CREATE,
          values('fraud-detector', 'group:default/ml-platform'),
        ),
      /model project "fraud-detector" already exists/,
    );
  });

  it('a foreign repoUrl given to publish: refused, the repository is untouched', async () => {
    const task = await refused(
      () =>
        run(
          ASMITH,
          publishToForeignRepo,
          values('ds-scorer', 'group:default/data-science', {
            repoUrl: 'local?repo=fraud-detector',
          }),
        ),
      /refuses repository local\?repo=fraud-detector: it belongs to model project "fraud-detector" owned by group:default\/ml-platform/,
    );
    expect(failedStep(task)).toBe('publish');
  });

  it('a foreign repoUrl given to register: refused, no entity changes owner', async () => {
    const task = await refused(
      () =>
        run(
          ASMITH,
          registerFromForeignRepo,
          values('ds-ranker', 'group:default/data-science', {
            repoUrl: 'local?repo=fraud-detector',
          }),
        ),
      /refuses repository local\?repo=fraud-detector: it belongs to model project "fraud-detector"/,
    );
    expect(failedStep(task)).toBe('register');
    expect(
      (
        await api(
          backend.baseUrl,
          '/api/catalog/entities/by-name/component/default/ds-ranker',
        )
      ).status,
    ).toBe(404);
  });

  it('an endpoint for a model the user does not own: refused at its first tensorflow step', async () => {
    // The endpoint's owner is the model's owner (read from the catalog), so asmith can only fail membership.
    const task = await refused(
      () =>
        run(ASMITH, 'template:default/provision-endpoint', {
          model: 'resource:default/fraud-detector-model',
          environment: 'development',
          sizing: 'preset',
          size: 'small',
        }),
      /user:default\/asmith may not run tensorflow:identity:provision for group:default\/ml-platform: they are not a member/,
    );
    expect(failedStep(task)).toBe('identity');
  });

  /** How a colliding name was refused: by the request (anything but 201), or by the task once it started. */
  async function collisionRefusal(r: { status: number; body: any }) {
    if (r.status !== 201)
      return { refusedBy: 'request' as const, status: r.status };
    const task = await waitForTask(backend.baseUrl, r.body.id);
    return {
      refusedBy: 'task' as const,
      status: task.status,
      error: task.error?.message,
      startedSteps: startedSteps(task),
    };
  }
  const COLLISION_REFUSED = {
    request: { status: 400 },
    task: {
      status: 'failed',
      error: expect.stringMatching(/reserved|at most 52/),
      startedSteps: ['create'],
    },
  };

  it('names that would collide after derivation are refused before a task starts or at its first step', async () => {
    // "<x>-endpoint" is project x's endpoint Component; names over 52 characters would need truncation.
    for (const name of [
      'fraud-detector-endpoint',
      `fraud-detector-${'x'.repeat(40)}`,
    ]) {
      const before = await projectState('fraud-detector');
      const r = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
        method: 'POST',
        json: {
          templateRef: CREATE,
          values: values(name, 'group:default/data-science'),
        },
        headers: { authorization: mockCredentials.user.header(ASMITH) },
      });
      const refusal = await collisionRefusal(r);
      expect(refusal).toMatchObject(COLLISION_REFUSED[refusal.refusedBy]);
      expect(await projectState('fraud-detector')).toEqual(before);
      expect(fs.existsSync(path.join(repos(), name))).toBe(false);
    }
  });

  it('two creates of one name at once: exactly one wins, the other leaves nothing behind', async () => {
    const ids = await Promise.all([
      start(JDOE, CREATE, values('race-model', 'group:default/ml-platform')),
      start(ASMITH, CREATE, values('race-model', 'group:default/data-science')),
    ]);
    const [a, b] = await Promise.all(
      ids.map(id => waitForTask(backend.baseUrl, id, 120_000)),
    );
    const outcomes = [a.status, b.status].sort();
    expect(outcomes).toEqual(['completed', 'failed']);
    const [winner, loser] = a.status === 'completed' ? [a, b] : [b, a];
    const winnerOwner =
      winner === a ? 'group:default/ml-platform' : 'group:default/data-science';
    expect(loser.error?.message).toMatch(
      new RegExp(`owned by ${winnerOwner.replace('/', '\\/')}`),
    );
    expect(startedSteps(loser)).toEqual(['create']);
    await owned('race-model', winnerOwner);
    // Only the winner's commits, claim and branch.
    const claim = (
      await git(
        ['log', '-1', '--format=%B', 'refs/tensorflow/claims/race-model'],
        { cwd: gitops() },
      )
    ).stdout;
    expect(claim).toContain(`"owner":"${winnerOwner}"`);
    const authors = (
      await git(['log', '--format=%ae'], {
        cwd: path.join(repos(), 'race-model'),
      })
    ).stdout
      .trim()
      .split('\n');
    expect(new Set(authors)).toEqual(
      new Set([
        winner === a ? 'jane.doe@example.com' : 'alex.smith@example.com',
      ]),
    );
  });

  it('a refused owner: nothing is created at any step', async () => {
    const task = await run(
      JDOE,
      CREATE,
      values('not-mine', 'group:default/data-science'),
    );
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(
      /user:default\/jdoe may not run tensorflow:model:create for group:default\/data-science: they are not a member/,
    );
    expect(startedSteps(task)).toEqual(['create']);
    expect(fs.existsSync(path.join(repos(), 'not-mine'))).toBe(false);
    expect(await projectState('not-mine')).toEqual({
      head: null,
      tree: null,
      refs: [],
      entities: Object.fromEntries(
        ENTITIES('not-mine').map(([k, n]) => [`${k}:${n}`, null]),
      ),
    });
  });
});
