import { DEFAULT_ACCESS_POLICY } from '../access/config';
import { readGatewayConfig } from '../gateway';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { parse } from 'yaml';
import { LocalGitOpsTarget } from '../gitops/local';
import { readServingConfig } from './config';
import { createServingProvisionAction } from './provision';
import { examples } from './provision.examples';
import { testProjectAccess } from '../../test/support/access/project';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

function setup(servingConfig: object = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serving-provision-'));
  const repo = path.join(dir, 'gitops');
  const gitops = new LocalGitOpsTarget({ path: repo });
  const auditor = mockServices.auditor.mock();
  const serving = readServingConfig(
    new ConfigReader({
      tensorflow: {
        serving: {
          gateway: { publicBaseUrl: 'https://models.example.com' },
          ...servingConfig,
        },
      },
    }),
  );
  const action = createServingProvisionAction({
    gitops,
    serving,
    naming: { namespacePrefix: 'ml-' },
    auditor,
    access: DEFAULT_ACCESS_POLICY,
    gateway: readGatewayConfig(new ConfigReader({})),
    projectAccess: testProjectAccess(),
  });
  const store = new Map<string, unknown>();
  const context = (
    input: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) => {
    const outputs: Record<string, unknown> = {};
    const ctx = {
      ...createMockActionContext({
        input: input as any,
        user: {
          ref: (extra.userRef as string | undefined) ?? 'user:default/alice',
          entity: {
            spec: {
              profile: { displayName: 'Alice A', email: 'alice@example.com' },
            },
          } as any,
        },
        task: { id: 'task-1' },
      }),
      output: jest.fn((name: string, value: unknown) => {
        outputs[name] = value;
      }),
      checkpoint: jest.fn(
        async ({ key, fn }: { key: string; fn: () => Promise<unknown> }) => {
          if (!store.has(key)) store.set(key, await fn());
          return store.get(key);
        },
      ),
      ...extra,
    };
    return { ctx: ctx as any, outputs };
  };
  return { dir, repo, action, auditor, context, store, gitops };
}

describe('tensorflow:serving:provision', () => {
  const dirs: string[] = [];
  afterAll(() =>
    dirs.forEach(d => fs.rmSync(d, { recursive: true, force: true })),
  );

  it('declares both input and output schemas', () => {
    const { action, dir } = setup();
    dirs.push(dir);
    expect(action.id).toBe('tensorflow:serving:provision');
    expect(action.supportsDryRun).toBe(true);
    expect(action.schema?.input).toBeDefined();
    expect(action.schema?.output).toBeDefined();
  });

  it.each(examples().map(e => [e.description, e.example]))(
    'runs the example: %s',
    async (_d, example) => {
      const { action, dir, repo, context } = setup();
      dirs.push(dir);
      const step = parse(example).steps[0];
      expect(step.action).toBe('tensorflow:serving:provision');
      // Examples name several teams' projects: run them as a platform admin (bwong), who may act for any owner.
      const { ctx, outputs } = context(step.input, {
        userRef: 'user:default/bwong',
      });
      await action.handler(ctx);
      expect(outputs).toMatchObject({
        namespace: `ml-${step.input.name}`,
        serviceAccount: `${step.input.name}-serving`,
        gitopsTarget: 'local',
        branch: `model/${step.input.name}`,
        changed: true,
      });
      const files = git(
        repo,
        'ls-tree',
        '-r',
        '--name-only',
        `model/${step.input.name}`,
      ).split('\n');
      expect(files).toEqual(outputs.files);
      expect(git(repo, 'rev-parse', `model/${step.input.name}`)).toBe(
        outputs.commit,
      );
    },
  );

  it('commits to the project branch, audits it, and a re-run makes no new commit', async () => {
    const { action, dir, repo, context, auditor, gitops } = setup();
    dirs.push(dir);
    // identity files proposed earlier on the same branch by another action
    await gitops.propose({
      branch: 'model/fraud-detector',
      title: 'identity',
      description: 'identity',
      files: [
        {
          path: 'projects/ml-fraud-detector/identity/serviceaccount-fraud-detector-serving.yaml',
          content: 'kind: ServiceAccount\n',
        },
      ],
      initiator: 'user:default/alice',
      author: { name: 'Alice A', email: 'alice@example.com' },
    });
    const input = {
      name: 'fraud-detector',
      owner: 'group:default/ml-platform',
      environment: 'production',
      size: 'large',
    };
    const first = context(input);
    await action.handler(first.ctx);
    expect(first.outputs).toMatchObject({
      namespace: 'ml-fraud-detector',
      serviceAccount: 'fraud-detector-serving',
      restUrl:
        'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501/v1/models/fraud-detector',
      grpcUrl: 'fraud-detector.ml-fraud-detector.svc.cluster.local:8500',
      gatewayUrl:
        'https://models.example.com/fraud-detector/v1/models/fraud-detector',
      runtime: 'tfserving',
      changed: true,
    });
    expect(first.outputs.url).toMatch(/^file:\/\/.*#model\/fraud-detector$/);
    const tree = git(
      repo,
      'ls-tree',
      '-r',
      '--name-only',
      'model/fraud-detector',
    ).split('\n');
    expect(tree).toContain(
      'projects/ml-fraud-detector/identity/serviceaccount-fraud-detector-serving.yaml',
    );
    expect(tree).toContain(
      'projects/ml-fraud-detector/serving/poddisruptionbudget-fraud-detector.yaml',
    );
    const deployment = parse(
      git(
        repo,
        'show',
        'model/fraud-detector:projects/ml-fraud-detector/serving/deployment-fraud-detector.yaml',
      ),
    );
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      'tensorflow/serving:2.18.0-gpu',
    );
    const message = git(
      repo,
      'log',
      '-1',
      '--format=%B',
      'model/fraud-detector',
    );
    expect(message).toContain('Initiated-by: user:default/alice');
    expect(
      git(repo, 'log', '-1', '--format=%an <%ae>', 'model/fraud-detector'),
    ).toBe('Alice A <alice@example.com>');

    expect(auditor.createEvent).toHaveBeenCalledTimes(1);
    expect(auditor.createEvent).toHaveBeenCalledWith({
      eventId: 'serving-endpoint-proposed',
      severityLevel: 'high',
      meta: expect.objectContaining({
        initiator: 'user:default/alice',
        taskId: 'task-1',
        project: 'fraud-detector',
        namespace: 'ml-fraud-detector',
        target: 'local',
        branch: 'model/fraud-detector',
        files: first.outputs.files,
      }),
    });
    const event = await (auditor.createEvent as jest.Mock).mock.results[0]
      .value;
    expect(event.success).toHaveBeenCalledWith({
      meta: expect.objectContaining({
        commit: first.outputs.commit,
        changed: true,
      }),
    });

    // Retried task: the checkpoint answers, nothing runs again.
    const retried = context(input);
    (retried.ctx as any).checkpoint = first.ctx.checkpoint;
    await action.handler(retried.ctx);
    expect(auditor.createEvent).toHaveBeenCalledTimes(1);
    expect(retried.outputs.commit).toBe(first.outputs.commit);

    // A new task with the same input: look-before-create in the target, no new commit.
    const commits = git(repo, 'rev-list', '--count', 'model/fraud-detector');
    const again = action;
    const second = context(input, { checkpoint: async ({ fn }: any) => fn() });
    await again.handler(second.ctx);
    expect(second.outputs).toMatchObject({
      changed: false,
      commit: first.outputs.commit,
    });
    expect(git(repo, 'rev-list', '--count', 'model/fraud-detector')).toBe(
      commits,
    );

    // Scaling down to one replica (the small preset) removes the PDB but keeps identity files.
    const third = context(
      { ...input, size: 'small' },
      { checkpoint: async ({ fn }: any) => fn() },
    );
    await again.handler(third.ctx);
    expect(third.outputs.changed).toBe(true);
    const after = git(
      repo,
      'ls-tree',
      '-r',
      '--name-only',
      'model/fraud-detector',
    ).split('\n');
    expect(after).not.toContain(
      'projects/ml-fraud-detector/serving/poddisruptionbudget-fraud-detector.yaml',
    );
    expect(after).toContain(
      'projects/ml-fraud-detector/identity/serviceaccount-fraud-detector-serving.yaml',
    );
  });

  it('dry run returns the manifests and commits nothing', async () => {
    const { action, dir, repo, context, auditor } = setup({
      runtime: 'kserve',
    });
    dirs.push(dir);
    const { ctx, outputs } = context(
      { name: 'fraud-detector', owner: 'group:default/ml-platform', gpus: 1 },
      { isDryRun: true },
    );
    await action.handler(ctx);
    expect(fs.existsSync(repo)).toBe(false);
    expect(auditor.createEvent).not.toHaveBeenCalled();
    expect(ctx.checkpoint).not.toHaveBeenCalled();
    const manifests = outputs.manifests as Array<{
      path: string;
      content: string;
    }>;
    expect(manifests.map(m => m.path)).toEqual(outputs.files);
    const isvc = manifests.find(m => m.path.includes('inferenceservice-'))!;
    expect(parse(isvc.content).spec.predictor.model.runtimeVersion).toBe(
      '2.18.0-gpu',
    );
    expect(outputs.commit).toBeUndefined();
  });

  it('rejects input beyond the ceilings before any side effect', async () => {
    const { action, dir, repo, context, auditor } = setup();
    dirs.push(dir);
    await expect(
      action.handler(
        context({
          name: 'fraud-detector',
          owner: 'group:default/ml-platform',
          gpus: 8,
        }).ctx,
      ),
    ).rejects.toThrow(/gpus is 8, above the platform's ceiling of 1/);
    await expect(
      action.handler(
        context({ name: 'Fraud Detector', owner: 'group:default/ml-platform' })
          .ctx,
      ),
    ).rejects.toThrow(/not a DNS-1123 label/);
    await expect(
      action.handler(
        context({ name: 'fraud-detector', owner: 'user:default/bob' }).ctx,
      ),
    ).rejects.toThrow(/owner must be one of: group/);
    expect(fs.existsSync(repo)).toBe(false);
    expect(auditor.createEvent).not.toHaveBeenCalled();
  });

  it('stops when the audit cannot be recorded', async () => {
    const { action, dir, repo, context, auditor } = setup();
    dirs.push(dir);
    (auditor.createEvent as jest.Mock).mockRejectedValueOnce(
      new Error('audit sink down'),
    );
    await expect(
      action.handler(
        context({ name: 'fraud-detector', owner: 'group:default/ml-platform' })
          .ctx,
      ),
    ).rejects.toThrow(/audit sink down/);
    expect(fs.existsSync(path.join(repo, '.git'))).toBe(false);
  });
});
