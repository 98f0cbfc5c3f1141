/**
 * Failure behaviour on the real backend: each external call fails in turn. For each fault the
 * task fails naming the cause, the audit trail records the failure, and `POST /v2/tasks/:id/retry`
 * after the fault is removed converges to the state of an uninterrupted run with nothing duplicated.
 * (GitHub faults are at action level against Prism: actions/github/faults.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import * as tfl from '@tensorflow/tfjs-layers';
import Bottleneck from 'bottleneck';
import { initialProvisioningRecord } from '../../actions/access/binding';
import { testProjectAccess } from '../support/access/project';
import { DEFAULT_ACCESS_POLICY } from '../../actions/access/config';
import { createGithubClient } from '../../actions/shared/github/client';
import { createGithubConfigureAction } from '../../actions/github/configure';
import { LocalGitOpsTarget } from '../../actions/gitops/local';
import { git } from '../../actions/gitops/git';
import { actionContext } from '../support/actionContext';
import {
  api,
  RecordingAuditor,
  runTask,
  startBackend,
  waitFor,
  waitForCatalog,
  waitForTask,
  type RunningBackend,
} from '../support/backend';
import {
  registerTemplateVariant,
  switchableCatalogFactory,
  type CatalogFaults,
} from '../support/faults';
import {
  isProvisioningRecordRequest,
  serveProvisioningRecord,
  usePrism,
} from '../support/prism';
import { startSmokeFileServer } from '../support/smokeFileServer';
import { denseClassifier, saveLayers } from '../support/smokeModels';

jest.setTimeout(60_000);

const ENTITIES = (name: string) => [
  ['component', name],
  ['resource', `${name}-model`],
  ['component', `${name}-endpoint`],
  ['api', `${name}-api`],
  ['resource', `${name}-serving-sa`],
];

/**
 * A small-file conv model slow enough (~165M MACs per inference) that 200 timed runs take seconds
 * on the wasm/CPU backends: the scaffolder delivers a cancel to the running step within ~1 s
 * (it polls task events every second), so validation must outlast that.
 */
function slowModel(): tfl.Sequential {
  const m = tfl.sequential({ name: 'slow_conv' });
  m.add(
    tfl.layers.conv2d({
      inputShape: [128, 128, 3],
      filters: 32,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
    }),
  );
  m.add(
    tfl.layers.conv2d({
      filters: 32,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
    }),
  );
  m.add(tfl.layers.globalAveragePooling2d({}));
  m.add(tfl.layers.dense({ units: 3, activation: 'softmax' }));
  return m;
}

describe('failure behaviour on a real backend', () => {
  let backend: RunningBackend;
  let templateRef: string;
  let files: Awaited<ReturnType<typeof startSmokeFileServer>>;
  let modelsDir: string;
  let workDir: string;
  let baseline: Awaited<ReturnType<typeof endState>>;
  const catalogFaults: CatalogFaults = { failing: new Set(), calls: [] };
  const gitops = () => path.join(backend.dataDir, 'gitops');
  const values = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    description: `Fault injection ${name}`,
    owner: 'group:default/ml-platform',
    grants: [{ group: 'group:default/risk', scopes: ['predict'] }],
    ...extra,
  });

  beforeAll(async () => {
    modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-fault-models-'));
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-fault-work-'));
    await saveLayers(denseClassifier(), path.join(modelsDir, 'good'));
    await saveLayers(slowModel(), path.join(modelsDir, 'slow'));
    files = await startSmokeFileServer(modelsDir);
    backend = await startBackend({
      features: [switchableCatalogFactory(catalogFaults)],
      config: {
        backend: {
          workingDirectory: workDir,
          reading: { allow: [{ host: new URL(files.url).host }] },
        },
      },
    });
    await waitForCatalog(backend.baseUrl);
    templateRef = await registerTemplateVariant(
      backend.baseUrl,
      path.join(backend.dataDir, 'templates'),
      'create-model-faults',
      () => undefined,
    );
    const task = await runTask(
      backend.baseUrl,
      templateRef,
      values('baseline-model'),
    );
    // eslint-disable-next-line jest/no-standalone-expect -- the baseline every fault is compared with must have completed
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    baseline = await endState('baseline-model', task.id);
  });

  afterAll(async () => {
    await backend?.stop();
    await files?.close();
    fs.rmSync(modelsDir, { recursive: true, force: true });
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function branchExists(name: string): Promise<boolean> {
    const r = await git(
      ['rev-parse', '--verify', '-q', `refs/heads/model/${name}`],
      { cwd: gitops(), okCodes: [1] },
    );
    return r.code === 0;
  }

  /** What an end state consists of, without names, ids or times (compared with the baseline). */
  async function endState(name: string, taskId: string) {
    const repo = path.join(backend.dataDir, 'repos', name);
    const count = async (args: string[], cwd: string) =>
      Number(
        (await git(['rev-list', '--count', ...args], { cwd })).stdout.trim(),
      );
    const locations = (await api(backend.baseUrl, '/api/catalog/locations'))
      .body as Array<{ data: { target: string } }>;
    const entities: string[] = [];
    for (const [kind, n] of ENTITIES(name)) {
      const r = await api(
        backend.baseUrl,
        `/api/catalog/entities/by-name/${kind}/default/${n}`,
      );
      if (r.status === 200)
        entities.push(`${kind}:${n.replace(name, '<name>')}`);
    }
    const record = JSON.parse(
      (await git(['show', 'HEAD:.backstage/provisioning.json'], { cwd: repo }))
        .stdout,
    );
    const ours = backend.auditor
      .ours()
      .filter(e => e.meta?.taskId === taskId && e.status === 'succeeded');
    const once = (id: string) => ours.filter(e => e.eventId === id).length;
    return {
      repoCommits: await count(['HEAD'], repo),
      gitopsCommits: await count([`main..model/${name}`], gitops()),
      catalogLocations: locations.filter(
        l => l.data.target === path.join(repo, 'catalog-info.yaml'),
      ).length,
      entities,
      record: {
        taskId: record.task.id === taskId,
        by: record.provisionedBy,
        keys: Object.keys(record),
      },
      sideEffects: Object.fromEntries(
        [
          'model-repository-published',
          'identity-provisioned',
          'serving-endpoint-proposed',
          'catalog-entities-registered',
        ].map(id => [id, once(id)]),
      ),
    };
  }

  async function retry(taskId: string) {
    const r = await api(
      backend.baseUrl,
      `/api/scaffolder/v2/tasks/${taskId}/retry`,
      { method: 'POST', json: {} },
    );
    expect(r.status).toBe(201);
    return waitForTask(backend.baseUrl, taskId);
  }

  const failedEvent = (taskId: string, eventId: string) =>
    backend.auditor
      .ours()
      .find(
        e =>
          e.meta?.taskId === taskId &&
          e.eventId === eventId &&
          e.status === 'failed',
      );

  it('baseline: one commit per publish and register, one per GitOps proposal, one location, five entities', () => {
    expect(baseline).toEqual({
      repoCommits: 2,
      gitopsCommits: 2,
      catalogLocations: 1,
      entities: [
        'component:<name>',
        'resource:<name>-model',
        'component:<name>-endpoint',
        'api:<name>-api',
        'resource:<name>-serving-sa',
      ],
      record: {
        taskId: true,
        by: 'user:default/jdoe',
        keys: expect.arrayContaining(['identity', 'serving', 'task']),
      },
      sideEffects: {
        'model-repository-published': 1,
        'identity-provisioned': 1,
        'serving-endpoint-proposed': 1,
        'catalog-entities-registered': 1,
      },
    });
  });

  it('catalog unavailable: register fails naming the catalog, audited as failed; retry converges', async () => {
    catalogFaults.failing.add('addLocation');
    let task;
    try {
      task = await runTask(
        backend.baseUrl,
        templateRef,
        values('catalog-fault'),
      );
    } finally {
      catalogFaults.failing.clear();
    }
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(/catalog unavailable: addLocation/);
    expect(failedEvent(task.id, 'catalog-entities-registered')?.error).toMatch(
      /catalog unavailable/,
    );
    const retried = await retry(task.id);
    expect({ status: retried.status, error: retried.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    expect(await endState('catalog-fault', task.id)).toEqual(baseline);
  });

  it('auditor down: the step stops before its side effect; retry converges', async () => {
    backend.auditor.failOn = id => id === 'identity-provisioned';
    let task;
    try {
      task = await runTask(backend.baseUrl, templateRef, values('audit-fault'));
    } finally {
      backend.auditor.failOn = undefined;
    }
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(
      /audit sink unavailable for identity-provisioned/,
    );
    // nothing proposed: no GitOps branch, no identity or serving event, nothing registered
    expect(await branchExists('audit-fault')).toBe(false);
    const mine = backend.auditor
      .ours()
      .filter(e => e.meta?.taskId === task.id)
      .map(e => e.eventId);
    expect(mine).not.toEqual(expect.arrayContaining(['identity-provisioned']));
    expect(mine).not.toEqual(
      expect.arrayContaining(['serving-endpoint-proposed']),
    );
    const retried = await retry(task.id);
    expect({ status: retried.status, error: retried.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    expect(await endState('audit-fault', task.id)).toEqual(baseline);
  });

  it('GitOps repository rejects the write (ref locked): bounded retries, fails naming the lock, audited; retry converges', async () => {
    const lock = path.join(
      gitops(),
      '.git',
      'refs',
      'heads',
      'model',
      'gitops-fault.lock',
    );
    fs.writeFileSync(lock, '');
    let task;
    try {
      task = await runTask(
        backend.baseUrl,
        templateRef,
        values('gitops-fault'),
      );
    } finally {
      fs.rmSync(lock, { force: true });
    }
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(
      /cannot lock ref 'refs\/heads\/model\/gitops-fault'/,
    );
    expect(failedEvent(task.id, 'identity-provisioned')?.error).toMatch(
      /cannot lock ref/,
    );
    expect(await branchExists('gitops-fault')).toBe(false);
    const retried = await retry(task.id);
    expect({ status: retried.status, error: retried.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    expect(await endState('gitops-fault', task.id)).toEqual(baseline);
  });

  it('model fails to load (truncated weights): validate fails naming the model, nothing published; retry converges', async () => {
    const dir = path.join(modelsDir, 'corrupt');
    await saveLayers(denseClassifier(), dir);
    const shard = fs.readdirSync(dir).find(f => f.endsWith('.bin'))!;
    const good = fs.readFileSync(path.join(dir, shard));
    fs.writeFileSync(path.join(dir, shard), good.subarray(0, 40));
    const task = await runTask(
      backend.baseUrl,
      templateRef,
      values('model-fault', {
        modelSource: 'existing',
        modelUrl: `${files.url}/corrupt/model.json`,
      }),
    );
    expect(task.status).toBe('failed');
    expect(task.error).toEqual({
      name: 'InputError',
      // refused before anything is allocated: the weight bytes present differ from what model.json declares
      message: expect.stringMatching(
        /^modelUrl: the weight files of weightsManifest\[0\] \(weights\.bin\) hold \d+ bytes but model\.json declares \d+ bytes/,
      ),
    });
    expect(
      fs.existsSync(path.join(backend.dataDir, 'repos', 'model-fault')),
    ).toBe(false);
    expect(
      backend.auditor
        .ours()
        .filter(e => e.meta?.taskId === task.id)
        .map(e => e.eventId),
    ).not.toContain('model-smoke-report-written');

    fs.writeFileSync(path.join(dir, shard), good);
    const retried = await retry(task.id);
    expect({ status: retried.status, error: retried.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    expect(await endState('model-fault', task.id)).toEqual(baseline);
  });

  it('cancelled during validation: nothing half-written (no report, no repository, no GitOps change)', async () => {
    const created = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
      method: 'POST',
      json: {
        templateRef,
        values: values('cancel-model', {
          modelSource: 'existing',
          modelUrl: `${files.url}/slow/model.json`,
          runs: 200,
        }),
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await waitFor('the validate step to start', async () => {
      const events = (
        await api(backend.baseUrl, `/api/scaffolder/v2/tasks/${id}/events`)
      ).body as any[];
      return events.some(e => e.body?.stepId === 'validate') ? true : undefined;
    });
    const cancel = await api(
      backend.baseUrl,
      `/api/scaffolder/v2/tasks/${id}/cancel`,
      { method: 'POST', json: {} },
    );
    expect(cancel.status).toBe(200);
    const task = await waitForTask(backend.baseUrl, id);
    // this scaffolder version records a 'cancelled' event and ends the task as failed with the step's cancellation error
    expect(
      task.events.some(
        (e: any) => e.type === 'cancelled' && e.body?.stepId === 'validate',
      ),
    ).toBe(true);
    expect({ status: task.status, error: task.error?.message }).toEqual({
      status: expect.stringMatching(/^(cancelled|failed)$/),
      error: expect.stringMatching(/cancel/i),
    });
    expect(
      task.events
        .filter((e: any) => e.body?.stepId === 'validate')
        .map((e: any) => e.body?.status)
        .filter(Boolean),
    ).toEqual(['processing', 'cancelled', 'failed']);
    // no later step started
    const started = task.events
      .filter((e: any) => e.body?.status === 'processing')
      .map((e: any) => e.body.stepId);
    expect(started).toEqual(['create', 'validate']);
    expect(
      task.events.find(
        (e: any) =>
          e.body?.stepId === 'validate' && e.body?.status === 'failed',
      )?.body.message,
    ).toMatch(/smoke inference was cancelled/);
    // give the step a moment to unwind, then look for anything it could have left behind
    await new Promise(r => setTimeout(r, 500));
    const leftovers: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.existsSync(d)
        ? fs.readdirSync(d, { withFileTypes: true })
        : []) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/smoke-report/.test(e.name)) leftovers.push(p);
      }
    };
    walk(workDir);
    expect(leftovers).toEqual([]);
    expect(
      fs.existsSync(path.join(backend.dataDir, 'repos', 'cancel-model')),
    ).toBe(false);
    expect(await branchExists('cancel-model')).toBe(false);
    const mine = backend.auditor
      .ours()
      .filter(e => e.meta?.taskId === id)
      .map(e => e.eventId);
    expect(mine).not.toContain('model-smoke-report-written');
    expect(mine).not.toContain('model-repository-published');
  });
});

/**
 * GitHub faults at action level (tensorflow:github:configure against Prism on GitHub's OpenAPI
 * description). Faults are steered per attempt in the fetch the client is built with, so the
 * octokit retry/throttling plugins see each failure: transient ones are retried a bounded number
 * of times (with 1 ms delay units instead of seconds), others fail naming GitHub and the status.
 */
describe('GitHub faults: tensorflow:github:configure against Prism', () => {
  const prism = usePrism();
  const R = '/repos/acme/fraud-detector';
  const T = '/orgs/acme/teams';
  const ALICE = 'user:default/alice'; // a member of ml-platform in the fixtures
  /** Fault per `METHOD path` (regex on the decoded path): the status to force and how many attempts to fail. */
  let faults: Array<{
    method: string;
    path: RegExp;
    code: number;
    times: number;
    secondaryRateLimit?: boolean;
  }> = [];
  const attempts: string[] = [];

  const faultyFetch: typeof fetch = async (input, init = {}) => {
    const request = new Request(input as string | URL | Request, init);
    const p = decodeURIComponent(new URL(request.url).pathname);
    attempts.push(`${request.method} ${p}`);
    const fault = faults.find(
      f => f.method === request.method && f.path.test(p) && f.times > 0,
    );
    if (!fault) return prism.fetch(input, init);
    fault.times--;
    const headers = new Headers(init.headers);
    headers.set('prefer', `code=${fault.code}`);
    const res = await prism.fetch(request.url, { ...init, headers });
    if (!fault.secondaryRateLimit) return res;
    // Prism answers with the description's 403 example; GitHub's secondary rate limit response
    // carries this message and a retry-after header (docs: "Exceeding the secondary rate limit").
    expect(res.status).toBe(403);
    return new Response(
      JSON.stringify({
        message:
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url:
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      }),
      {
        status: 403,
        headers: { 'content-type': 'application/json', 'retry-after': '1' },
      },
    );
  };

  function setup() {
    const integrations = ScmIntegrations.fromConfig(
      new ConfigReader({
        integrations: {
          github: [
            { host: 'github.com', apiBaseUrl: prism.url, token: 'test-token' },
          ],
        },
      }),
    );
    const recorder = new RecordingAuditor();
    const action = createGithubConfigureAction({
      integrations,
      access: DEFAULT_ACCESS_POLICY,
      naming: { namespacePrefix: 'ml-' },
      projectAccess: testProjectAccess(),
      auditor: recorder.forPlugin('scaffolder'),
      getClient: async target => {
        const octokit = await createGithubClient(target, {
          integrations,
          retry: { retryAfterBaseValue: 1 },
          rateLimitRetryAfterBaseValue: 1,
          octokitOptions: {
            request: { fetch: faultyFetch },
            // plugin-throttling spaces writes 1 s apart by default; no spacing in tests
            throttle: {
              write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
            },
          },
        });
        // a fresh repository (bound to the project by its record): no team permission, no CODEOWNERS,
        // no OIDC customisation, no environments
        serveProvisioningRecord(
          octokit,
          initialProvisioningRecord({
            project: {
              name: 'fraud-detector',
              owner: 'group:default/ml-platform',
              namespace: 'ml-fraud-detector',
            },
            initiator: 'user:default/alice',
            taskId: 't',
            repoUrl: 'github.com?owner=acme&repo=fraud-detector',
          }),
        );
        octokit.hook.before('request', options => {
          const route = `${options.method} ${options.url}`;
          let prefer: string | undefined;
          if (isProvisioningRecordRequest(options)) return;
          if (/^GET \/orgs\/\{org\}\/teams\/\{team_slug\}\/repos\//.test(route))
            prefer = 'code=404';
          if (route === 'GET /repos/{owner}/{repo}/contents/{path}')
            prefer = 'code=404';
          if (
            route === 'GET /repos/{owner}/{repo}/actions/oidc/customization/sub'
          )
            prefer = 'code=404';
          if (route === 'GET /repos/{owner}/{repo}/environments')
            prefer = 'dynamic=true';
          if (prefer) options.headers = { ...options.headers, prefer };
        });
        return octokit;
      },
    });
    return { action, recorder };
  }

  const input = {
    repoUrl: 'github.com?owner=acme&repo=fraud-detector',
    name: 'fraud-detector',
    owner: 'group:default/ml-platform',
    grants: { 'group:default/risk': ['read-metadata'] },
  };
  const UNINTERRUPTED = [
    `PUT ${T}/ml-platform/repos/acme/fraud-detector`,
    `PUT ${T}/risk/repos/acme/fraud-detector`,
    `PUT ${R}/contents/.github/CODEOWNERS`,
    `POST ${R}/rulesets`,
    `PUT ${R}/environments/staging`,
    `PUT ${R}/environments/production`,
  ];
  const goodWrites = () =>
    prism.requests
      .filter(r => r.method !== 'GET' && r.status < 300)
      .map(r => `${r.method} ${r.path}`);
  const count = (call: string) => attempts.filter(a => a === call).length;

  beforeEach(() => {
    prism.clear();
    attempts.length = 0;
    faults = [];
  });

  /** Runs the action, then (fault removed) runs it again with the same checkpoints, as a task retry does. */
  async function failThenRetry(expected: RegExp) {
    const { action, recorder } = setup();
    const checkpoints = new Map<string, unknown>();
    const first = actionContext(input, { checkpoints, userRef: ALICE });
    const error = await action.handler(first.ctx as any).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(expected);
    faults = [];
    const second = actionContext(input, { checkpoints, userRef: ALICE });
    await action.handler(second.ctx as any);
    // each write landed once, as in an uninterrupted run; no OIDC subject customised without a cloud trust
    expect(goodWrites()).toEqual(UNINTERRUPTED);
    expect(
      attempts.filter(a => a.startsWith('PUT') && a.includes('/oidc/')),
    ).toEqual([]);
    return { recorder, second };
  }

  it('GitHub 500 twice on the ruleset: retried within bounds, the run succeeds with each write once', async () => {
    faults = [{ method: 'POST', path: /\/rulesets$/, code: 500, times: 2 }];
    const { action } = setup();
    const { ctx, outputs } = actionContext(input, { userRef: ALICE });
    await action.handler(ctx as any);
    expect(count(`POST ${R}/rulesets`)).toBe(3);
    expect(goodWrites()).toEqual(UNINTERRUPTED);
    expect(outputs.rulesetId).toBe(42);
  });

  it('GitHub 500 persisting: 1 + 3 attempts, fails naming GitHub and 500, audited as failed; a retry converges', async () => {
    faults = [{ method: 'POST', path: /\/rulesets$/, code: 500, times: 100 }];
    const { recorder } = await failThenRetry(
      /^GitHub POST \/repos\/\{owner\}\/\{repo\}\/rulesets failed with 500/,
    );
    expect(count(`POST ${R}/rulesets`)).toBe(4 + 1);
    const failed = recorder.events
      .filter(e => e.status === 'failed')
      .map(e => [e.eventId, e.error]);
    expect(failed).toEqual([
      [
        'github-ruleset-set',
        expect.stringMatching(
          /^GitHub POST \/repos\/\{owner\}\/\{repo\}\/rulesets failed with 500/,
        ),
      ],
    ]);
  });

  it('GitHub 403 secondary rate limit: throttled retries are bounded (2), then fails naming GitHub and 403; a retry converges', async () => {
    faults = [
      {
        method: 'GET',
        path: /^\/repos\/acme\/fraud-detector$/,
        code: 403,
        times: 100,
        secondaryRateLimit: true,
      },
    ];
    await failThenRetry(
      /^GitHub GET \/repos\/\{owner\}\/\{repo\} failed with 403: You have exceeded a secondary rate limit/,
    );
    // 3 throttled attempts in the failing run, 1 in the retry
    expect(count(`GET ${R}`)).toBe(3 + 1);
  });

  it('GitHub 403 secondary rate limit once: retried after retry-after, the run succeeds', async () => {
    faults = [
      {
        method: 'GET',
        path: /^\/repos\/acme\/fraud-detector$/,
        code: 403,
        times: 1,
        secondaryRateLimit: true,
      },
    ];
    const { action } = setup();
    const { ctx } = actionContext(input, { userRef: ALICE });
    await action.handler(ctx as any);
    expect(count(`GET ${R}`)).toBe(2);
    expect(goodWrites()).toEqual(UNINTERRUPTED);
  });

  it('GitHub 409 on CODEOWNERS: not retried, fails naming GitHub and 409, audited; a retry converges without repeating team writes', async () => {
    faults = [
      {
        method: 'PUT',
        path: /\/contents\/\.github\/CODEOWNERS$/,
        code: 409,
        times: 100,
      },
    ];
    const { recorder } = await failThenRetry(
      /^GitHub PUT \/repos\/\{owner\}\/\{repo\}\/contents\/\{path\} failed with 409/,
    );
    expect(count(`PUT ${R}/contents/.github/CODEOWNERS`)).toBe(1 + 1);
    expect(count(`PUT ${T}/ml-platform/repos/acme/fraud-detector`)).toBe(1);
    expect(
      recorder.events.filter(e => e.status === 'failed').map(e => e.eventId),
    ).toEqual(['github-codeowners-set']);
  });
});

describe('GitOps ref lock held outside our lock: bounded, logged retries', () => {
  it('retries 5 times with growing delays, logs each attempt, then fails naming the locked ref; succeeds once the lock is gone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-fault-gitops-'));
    const warnings: string[] = [];
    const logger = {
      warn: (m: string) => warnings.push(m),
      info: () => undefined,
    } as any;
    const target = new LocalGitOpsTarget({ path: dir, logger });
    const change = (content: string) => ({
      branch: 'model/locked',
      title: 'Serving endpoint for locked',
      description: 'test',
      files: [{ path: 'projects/ml-locked/serving/a.yaml', content }],
      initiator: 'user:default/jdoe',
      author: { name: 'jdoe', email: 'jdoe@example.com' },
    });
    await target.propose(change('a: 1\n'));
    const lock = path.join(
      dir,
      '.git',
      'refs',
      'heads',
      'model',
      'locked.lock',
    );
    fs.writeFileSync(lock, '');
    const started = Date.now();
    await expect(target.propose(change('a: 2\n'))).rejects.toThrow(
      /cannot lock ref 'refs\/heads\/model\/locked'/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(warnings).toEqual(
      [1, 2, 3, 4, 5].map(n =>
        expect.stringMatching(
          new RegExp(
            `^GitOps repository busy \\(attempt ${n}\\); retrying in ${50 * 2 ** (n - 1)}ms`,
          ),
        ),
      ),
    );
    fs.rmSync(lock);
    expect((await target.propose(change('a: 2\n'))).changed).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
