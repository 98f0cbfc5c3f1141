import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import { git } from '../../actions/shared/git';
import { main } from '../../cli/createModel';
import {
  api,
  repoRoot,
  runTask,
  startBackend,
  waitFor,
  waitForCatalog,
  type RunningBackend,
} from '../support/backend';

/**
 * "Create new model" through the real scaffolder and the real catalog: POST a task,
 * wait for it, and read the new entities back from the catalog API.
 */
describe('Create new model on a real backend', () => {
  let backend: RunningBackend;

  beforeAll(async () => {
    backend = await startBackend();
    await waitForCatalog(backend.baseUrl);
  });

  afterAll(async () => {
    await backend?.stop();
  });

  const values = {
    name: 'fraud-detector',
    description: 'Scores card transactions for fraud',
    owner: 'group:default/ml-platform',
    system: '',
    lifecycle: 'experimental',
  };

  it('creates, validates, publishes, provisions and registers the model, owned by the chosen group', async () => {
    const task = await runTask(
      backend.baseUrl,
      'template:default/create-model',
      values,
    );
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });

    const entity = (kind: string, name: string) =>
      waitFor(`${kind} ${name} with its ownedBy relation`, async () => {
        const r = await api(
          backend.baseUrl,
          `/api/catalog/entities/by-name/${kind}/default/${name}`,
        );
        const owned = r.body?.relations?.some(
          (rel: any) =>
            rel.type === 'ownedBy' &&
            rel.targetRef === 'group:default/ml-platform',
        );
        return r.status === 200 && owned ? r.body : undefined;
      });
    const component = await entity('component', 'fraud-detector');
    const model = await entity('resource', 'fraud-detector-model');
    const endpoint = await entity('component', 'fraud-detector-endpoint');
    const apiEntity = await entity('api', 'fraud-detector-api');
    const serviceAccount = await entity(
      'resource',
      'fraud-detector-serving-sa',
    );
    for (const e of [component, model, endpoint, apiEntity, serviceAccount]) {
      expect(e.spec.owner).toBe('group:default/ml-platform');
      expect(
        e.metadata.annotations['tensorflow.ml-platform.io/provisioned-by'],
      ).toBe('user:default/jdoe');
    }
    expect(model.spec.type).toBe('ai-model');
    expect(endpoint.spec.type).toBe('model-server');
    const targets = (e: any, type: string) =>
      e.relations
        .filter((r: any) => r.type === type)
        .map((r: any) => r.targetRef)
        .sort();
    expect(targets(endpoint, 'dependsOn')).toEqual([
      'resource:default/fraud-detector-model',
      'resource:default/fraud-detector-serving-sa',
    ]);
    expect(targets(endpoint, 'providesApi')).toEqual([
      'api:default/fraud-detector-api',
    ]);
    const openapi = yaml.parse(apiEntity.spec.definition);
    expect(openapi.openapi).toMatch(/^3\./);
    // the starter model's real input name, read from its signature by the smoke step
    expect(JSON.stringify(openapi)).toContain('"features"');

    const repo = path.join(backend.dataDir, 'repos', 'fraud-detector');
    const log = await git(['log', '--format=%an <%ae>'], { cwd: repo });
    expect(new Set(log.stdout.trim().split('\n'))).toEqual(
      new Set(['Jane Doe <jane.doe@example.com>']),
    );
    const catalogInfo = yaml
      .parseAllDocuments(
        fs.readFileSync(path.join(repo, 'catalog-info.yaml'), 'utf8'),
      )
      .map(d => d.toJS());
    expect(catalogInfo.map((e: any) => e.metadata.name).sort()).toEqual([
      'fraud-detector',
      'fraud-detector-api',
      'fraud-detector-endpoint',
      'fraud-detector-model',
      'fraud-detector-serving-sa',
    ]);
    const report = JSON.parse(
      fs.readFileSync(path.join(repo, 'smoke-report.json'), 'utf8'),
    );
    expect(report.checks.every((c: any) => c.passed)).toBe(true);

    // one GitOps change carries serving, gateway and identity manifests of the project
    const gitops = path.join(backend.dataDir, 'gitops');
    const files = (
      await git(['ls-tree', '-r', '--name-only', 'model/fraud-detector'], {
        cwd: gitops,
      })
    ).stdout
      .trim()
      .split('\n');
    const base = 'projects/ml-fraud-detector';
    for (const area of ['serving', 'identity', 'gateway']) {
      expect(
        files.filter(f => f.startsWith(`${base}/${area}/`)).length,
      ).toBeGreaterThan(0);
    }
    const kinds = await Promise.all(
      files.map(
        async f =>
          yaml.parse(
            (await git(['show', `model/fraud-detector:${f}`], { cwd: gitops }))
              .stdout,
          ).kind,
      ),
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace',
        'Deployment',
        'Service',
        'NetworkPolicy',
        'ResourceQuota',
        'LimitRange',
        'ServiceAccount',
        'Role',
        'RoleBinding',
        'AuthorizationPolicy',
        'RequestAuthentication',
        'Telemetry',
      ]),
    );
    const message = (
      await git(['log', '-1', '--format=%B', 'model/fraud-detector'], {
        cwd: gitops,
      })
    ).stdout;
    expect(message).toContain('user:default/jdoe');

    const links = task.output.links as Array<{
      title: string;
      entityRef?: string;
      url?: string;
    }>;
    expect(links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          entityRef: 'component:default/fraud-detector',
        }),
        expect.objectContaining({
          entityRef: 'component:default/fraud-detector-endpoint',
        }),
      ]),
    );

    // every output link resolves: local URLs exist on disk, entity refs in the catalog
    for (const entityRef of links.flatMap(l =>
      l.entityRef ? [l.entityRef] : [],
    )) {
      const [kind, rest] = entityRef.split(':');
      const [ns, name] = rest.split('/');
      expect(
        (
          await api(
            backend.baseUrl,
            `/api/catalog/entities/by-name/${kind}/${ns}/${name}`,
          )
        ).status,
      ).toBe(200);
    }
    for (const url of links.filter(l => !l.entityRef).map(l => l.url)) {
      expect(url).toMatch(/^file:\/\//);
      expect(fs.existsSync(new URL(url!).pathname)).toBe(true);
    }

    const ours = backend.auditor.ours();
    expect(
      ours.filter(e => e.status === 'succeeded').map(e => e.eventId),
    ).toEqual(
      expect.arrayContaining([
        'model-project-created',
        'model-smoke-report-written',
        'model-repository-published',
        'identity-provisioned',
        'serving-endpoint-proposed',
        'catalog-entities-registered',
      ]),
    );
    for (const event of ours) {
      expect(event.meta).toMatchObject({
        initiator: 'user:default/jdoe',
        taskId: task.id,
      });
    }
  });

  it('provisions an endpoint for a model that is already in the catalog (self-service)', async () => {
    // the model registered by the first test
    const task = await runTask(
      backend.baseUrl,
      'template:default/provision-endpoint',
      {
        model: 'resource:default/fraud-detector-model',
        environment: 'staging',
        sizing: 'preset',
        size: 'medium',
        batching: true,
        grants: [{ group: 'group:default/risk', scopes: ['predict'] }],
      },
    );
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    const gitops = path.join(backend.dataDir, 'gitops');
    const deployment = yaml.parse(
      (
        await git(
          [
            'show',
            'model/fraud-detector:projects/ml-fraud-detector/serving/deployment-fraud-detector.yaml',
          ],
          { cwd: gitops },
        )
      ).stdout,
    );
    expect(deployment.spec.replicas).toBe(2);
    const endpoint = await waitFor(
      'the endpoint to show the new grant',
      async () => {
        const r = await api(
          backend.baseUrl,
          '/api/catalog/entities/by-name/component/default/fraud-detector-endpoint',
        );
        const scopes = JSON.parse(
          r.body?.metadata?.annotations?.[
            'tensorflow.ml-platform.io/access-scopes'
          ] ?? '{}',
        );
        return scopes['group:default/risk'] ? r.body : undefined;
      },
    );
    expect(endpoint.spec.owner).toBe('group:default/ml-platform');
  });

  it('the create-model CLI follows a task to completion and prints the links', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      [
        '--name',
        'churn-model',
        '--owner',
        'group:default/ml-platform',
        '--backstage-url',
        backend.baseUrl,
        '--quiet',
      ],
      { write: (s: string) => out.push(s) } as any,
      { write: (s: string) => err.push(s) } as any,
    );
    expect({ code, err: err.join('') }).toEqual({ code: 0, err: '' });
    const text = out.join('');
    expect(text).toMatch(/\[validate\] completed/);
    // without --app-url the links point at the backend URL, which serves the app in the dev setup
    expect(text).toContain(
      `${backend.baseUrl}/catalog/default/component/churn-model`,
    );
    expect(text).toMatch(
      new RegExp(`Task page: ${backend.baseUrl}/create/tasks/\\S+`),
    );
    expect(text).toMatch(/sizing = "preset" \(template default\)/);
  });

  it('the CLI exits non-zero naming the failing step', async () => {
    const err: string[] = [];
    const code = await main(
      [
        '--name',
        'not-mine',
        '--owner',
        'group:default/data-science',
        '--backstage-url',
        backend.baseUrl,
        '--quiet',
      ],
      { write: () => true } as any,
      { write: (s: string) => err.push(s) } as any,
    );
    expect(code).toBe(1);
    expect(err.join('')).toMatch(
      /at step "create": user:default\/jdoe may not run tensorflow:model:create for group:default\/data-science: they are not a member/,
    );
  });

  it('runs the template through the dry-run endpoint without side effects', async () => {
    const template = yaml.parse(
      fs.readFileSync(
        path.join(repoRoot, 'templates/create-model/template.yaml'),
        'utf8',
      ),
    );
    const listRepos = () =>
      fs.existsSync(path.join(backend.dataDir, 'repos'))
        ? fs.readdirSync(path.join(backend.dataDir, 'repos'))
        : [];
    const reposBefore = listRepos();
    const r = await api(backend.baseUrl, '/api/scaffolder/v2/dry-run', {
      method: 'POST',
      json: {
        template,
        values: { ...values, name: 'dry-model' },
        directoryContents: [],
      },
    });
    expect({
      status: r.status,
      body: r.status === 200 ? undefined : r.body,
    }).toEqual({ status: 200, body: undefined });
    const paths = (r.body.directoryContents as Array<{ path: string }>).map(
      f => f.path,
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        'catalog-info.yaml',
        'README.md',
        'src/train.py',
      ]),
    );
    expect(listRepos()).toEqual(reposBefore);
    const missing = await api(
      backend.baseUrl,
      '/api/catalog/entities/by-name/component/default/dry-model',
    );
    expect(missing.status).toBe(404);
  });

  it('refuses a name that is not a DNS label before anything runs', async () => {
    const r = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
      method: 'POST',
      json: {
        templateRef: 'template:default/create-model',
        values: { ...values, name: '../../etc' },
      },
    });
    // the scaffolder checks parameters against the template's schema before a task exists
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(/name/);
  });
});
