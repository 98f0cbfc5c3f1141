import fs from 'node:fs';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import {
  CATALOG_FILTER_EXISTS,
  CatalogClient,
} from '@backstage/catalog-client';
import yaml from 'yaml';
import { readServingConfig } from '../../actions/serving/config';
import { buildServingManifests } from '../../actions/serving/manifests';
import { resolveServingSpec } from '../../actions/serving/request';
import { git } from '../../actions/shared/git';
import { deriveProject } from '../../actions/shared/naming';
import {
  api,
  repoRoot,
  startBackend,
  waitFor,
  waitForCatalog,
  waitForTask,
  type RunningBackend,
} from '../support/backend';
import {
  clusterObjects,
  InMemoryCluster,
  matchesSelector,
  parseLabelSelector,
  type K8sObject,
} from '../support/kubernetesCluster';
import {
  catalogModuleRhdhAiModelServerApi,
  rhdhAiModelServerSchema,
} from '../support/rhdhKindLayer';
import { entityKindSchemaValidator } from '@backstage/catalog-model';

/**
 * The entities of a wizard run as the places people look at them see them: RHDH's model
 * picker and its AiModelServerAPI kind, Backstage's Kubernetes plugin (its real backend, over
 * the GitOps change's manifests), and TechDocs/links. Real backend, real catalog, real wizard.
 */
describe('the model where people look: RHDH, Kubernetes plugin, TechDocs', () => {
  let backend: RunningBackend;
  const cluster = new InMemoryCluster();
  let catalog: CatalogClient;
  const gitops = () => path.join(backend.dataDir, 'gitops');

  beforeAll(async () => {
    backend = await startBackend({
      tensorflow: { catalog: { rhdh: { aiModelServerApi: true } } },
      config: {
        catalog: {
          rules: [
            {
              allow: [
                'Component',
                'System',
                'API',
                'Resource',
                'Location',
                'Template',
                'Group',
                'User',
                'AiModelServerAPI',
              ],
            },
          ],
          locations: [
            {
              type: 'file',
              target: path.join(repoRoot, 'dev/catalog/all.yaml'),
            },
          ],
        },
        kubernetes: {
          serviceLocatorMethod: { type: 'multiTenant' },
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                // never contacted: the in-memory cluster's fetcher answers for it
                {
                  name: 'test-cluster',
                  url: 'http://127.0.0.1:9',
                  authProvider: 'localKubectlProxy',
                  skipMetricsLookup: true,
                },
              ],
            },
          ],
          customResources: [
            {
              group: 'serving.kserve.io',
              apiVersion: 'v1beta1',
              plural: 'inferenceservices',
            },
          ],
        },
      },
      features: [
        catalogModuleRhdhAiModelServerApi,
        (await import('@backstage/plugin-kubernetes-backend')).default,
        cluster.module(),
      ],
    });
    await waitForCatalog(backend.baseUrl);
    catalog = new CatalogClient({
      discoveryApi: {
        getBaseUrl: async () => `${backend.baseUrl}/api/catalog`,
      },
    });
    const values = {
      name: 'fraud-detector',
      description: 'Scores card transactions for fraud',
      owner: 'group:default/ml-platform',
      system: '',
      lifecycle: 'experimental',
    };
    const created = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
      method: 'POST',
      json: { templateRef: 'template:default/create-model', values },
    });
    // eslint-disable-next-line jest/no-standalone-expect -- the shared setup must have succeeded, or every test below fails for it
    expect(created.status).toBe(201);
    // the whole wizard (smoke inference included) on a shared 2-core machine: allow minutes, not seconds
    const task = await waitForTask(backend.baseUrl, created.body.id, 240_000);
    // eslint-disable-next-line jest/no-standalone-expect -- as above: a failed wizard run fails every test with its error
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
  }, 300_000);

  afterAll(async () => {
    await backend?.stop();
  });

  const entity = (ref: string) =>
    waitFor(
      `${ref} in the catalog`,
      async () => (await catalog.getEntityByRef(ref)) ?? undefined,
    );

  it("RHDH's model picker finds the model by name, then its server and URL, as the AI templates do", async () => {
    // EntityPicker with catalogFilter { kind: resource, spec.type: ai-model, spec.dependencyOf: { exists: true } }
    // (redhat-ai-dev/ai-lab-template skeleton/template.yaml), through the catalog client it uses
    const { items } = await catalog.getEntities({
      filter: {
        kind: 'resource',
        'spec.type': 'ai-model',
        'spec.dependencyOf': CATALOG_FILTER_EXISTS,
      },
    });
    const picked = items.find(
      e =>
        e.metadata.annotations?.['rhdh.modelcatalog.io/model-name'] ===
        'fraud-detector',
    );
    expect(picked?.metadata.name).toBe('fraud-detector-model');
    // the picker does not offer models without a server
    expect(
      items.every(e => (e.spec?.dependencyOf as string[] | undefined)?.length),
    ).toBe(true);

    // catalog:fetch of the model, then of spec.dependencyOf[0]
    const model = await entity(`resource:default/${picked!.metadata.name}`);
    const server = await entity((model.spec!.dependencyOf as string[])[0]);
    expect(server.metadata.name).toBe('fraud-detector-endpoint');
    expect(server.spec?.type).toBe('model-server');
    expect(
      server.metadata.annotations?.[
        'rhdh.modelcatalog.io/internal-service-url'
      ],
    ).toBe('http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501');
    expect(server.metadata.tags).toContain('auth-required');
    const rel = (e: typeof server, type: string) =>
      (e.relations ?? []).filter(r => r.type === type).map(r => r.targetRef);
    expect(rel(server, 'dependsOn')).toContain(
      'resource:default/fraud-detector-model',
    );
    expect(rel(server, 'providesApi')).toEqual([
      'api:default/fraud-detector-api',
    ]);
  });

  it("registers one AiModelServerAPI per server, valid against RHDH's schema, owned and pointing at our OpenAPI API", async () => {
    const server = await waitFor(
      'the AiModelServerAPI with its ownedBy relation',
      async () => {
        const e = await catalog.getEntityByRef(
          'aimodelserverapi:default/fraud-detector-endpoint',
        );
        return e?.relations?.some(
          r =>
            r.type === 'ownedBy' && r.targetRef === 'group:default/ml-platform',
        )
          ? e
          : undefined;
      },
    );
    const { relations, ...raw } = server;
    expect(relations).toBeDefined();
    expect(entityKindSchemaValidator(rhdhAiModelServerSchema)(raw)).toBe(raw);
    expect(server.spec).toMatchObject({
      type: 'ai-model-server',
      serverType: 'tensorflow-serving-rest-v1',
      serverUrl:
        'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501',
      models: {
        discoverable: false,
        available: ['fraud-detector'],
        default: 'fraud-detector',
      },
    });
    const apiEntity = await entity(server.spec!.apiEntityRef as string);
    expect(apiEntity.spec?.type).toBe('openapi');
    expect(
      yaml.parse(apiEntity.spec!.definition as string).paths,
    ).toHaveProperty(['/v1/models/fraud-detector:predict']);
    // one server entity of each shape, no duplicates
    const servers = await catalog.getEntities({
      filter: { kind: 'AiModelServerAPI' },
    });
    expect(servers.items.map(e => e.metadata.name)).toEqual([
      'fraud-detector-endpoint',
    ]);
  });

  it("the Kubernetes plugin finds every generated workload, its pods and Service by the endpoint's selector", async () => {
    const branch = 'model/fraud-detector';
    const files = (
      await git(['ls-tree', '-r', '--name-only', branch], { cwd: gitops() })
    ).stdout
      .trim()
      .split('\n');
    const serving = files.filter(f =>
      f.startsWith('projects/ml-fraud-detector/serving/'),
    );
    const manifests: K8sObject[] = await Promise.all(
      serving.map(async f =>
        yaml.parse(
          (await git(['show', `${branch}:${f}`], { cwd: gitops() })).stdout,
        ),
      ),
    );
    // a neighbour in the same namespace that is not ours must not show up
    const decoy: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'other',
        namespace: 'ml-fraud-detector',
        labels: { 'backstage.io/kubernetes-id': 'other' },
      },
      spec: {
        replicas: 1,
        template: {
          metadata: { labels: { 'backstage.io/kubernetes-id': 'other' } },
          spec: { containers: [] },
        },
      },
    };
    cluster.objects = clusterObjects([...manifests, decoy]);

    // the real Kubernetes backend reads the entity from the real catalog and builds the selector
    const r = await api(
      backend.baseUrl,
      '/api/kubernetes/resources/workloads/query',
      {
        method: 'POST',
        json: {
          auth: {},
          entityRef: 'component:default/fraud-detector-endpoint',
        },
      },
    );
    expect({ status: r.status, errors: r.body?.items?.[0]?.errors }).toEqual({
      status: 200,
      errors: [],
    });
    expect(cluster.calls.at(-1)).toMatchObject({
      labelSelector: 'backstage.io/kubernetes-id=fraud-detector',
      namespace: 'ml-fraud-detector',
    });
    const found = new Map<string, string[]>(
      r.body.items[0].resources.map((x: any) => [
        x.type,
        x.resources.map((o: any) => o.metadata.name).sort(),
      ]),
    );
    const deployment = manifests.find(m => m.kind === 'Deployment')!;
    expect(found.get('deployments')).toEqual(['fraud-detector']);
    expect(found.get('services')).toEqual(['fraud-detector']);
    expect(found.get('replicasets')).toEqual(['fraud-detector-1']);
    expect(found.get('pods')).toHaveLength(deployment.spec.replicas);
    expect(found.get('configmaps')).toEqual([
      'fraud-detector-tfserving-config',
    ]);
    // every generated object of a type the plugin lists carries the label (nothing generated is left out)
    const listed = new Set([...found.values()].flat());
    const listedKinds = [
      'Deployment',
      'Service',
      'ConfigMap',
      'LimitRange',
      'ResourceQuota',
    ];
    for (const m of manifests.filter(x => listedKinds.includes(x.kind)))
      expect(listed).toContain(m.metadata.name);
    for (const m of manifests.filter(x => x.metadata.namespace))
      expect(m.metadata.labels?.['backstage.io/kubernetes-id']).toBe(
        'fraud-detector',
      );
    expect(listed).not.toContain('other');
    // "Ready" on those pods means a model version is AVAILABLE
    const pod = r.body.items[0].resources.find((x: any) => x.type === 'pods')
      .resources[0];
    expect(pod.spec.containers[0].readinessProbe.httpGet.path).toBe(
      '/v1/models/fraud-detector/metadata',
    );

    // the model Resource shows the same workloads
    const m = await api(
      backend.baseUrl,
      '/api/kubernetes/resources/workloads/query',
      {
        method: 'POST',
        json: { auth: {}, entityRef: 'resource:default/fraud-detector-model' },
      },
    );
    expect(m.status).toBe(200);
    expect(
      m.body.items[0].resources
        .find((x: any) => x.type === 'deployments')
        .resources.map((o: any) => o.metadata.name),
    ).toEqual(['fraud-detector']);
  });

  it('on KServe the plugin finds the InferenceService (custom resource) and its predictor pods by the same selector', async () => {
    const project = deriveProject(
      { name: 'fraud-detector', owner: 'group:default/ml-platform' },
      { namespacePrefix: 'ml-' },
    );
    const cfg = readServingConfig(
      new ConfigReader({ tensorflow: { serving: { runtime: 'kserve' } } }),
    );
    const { manifests } = buildServingManifests(
      project,
      resolveServingSpec({}, project, cfg),
      cfg,
    );
    cluster.objects = clusterObjects(JSON.parse(JSON.stringify(manifests)));
    const endpoint = await entity('component:default/fraud-detector-endpoint');
    const r = await api(
      backend.baseUrl,
      '/api/kubernetes/services/fraud-detector-endpoint',
      { method: 'POST', json: { auth: {}, entity: endpoint } },
    );
    expect(r.status).toBe(200);
    const found = new Map<string, any[]>(
      r.body.items[0].resources.map((x: any) => [x.type, x.resources]),
    );
    expect(
      found.get('customresources')!.map(o => `${o.kind}/${o.metadata.name}`),
    ).toEqual(['InferenceService/fraud-detector']);
    const pods = found.get('pods')!;
    expect(pods.length).toBeGreaterThan(0);
    expect(pods[0].spec.containers[0].readinessProbe.httpGet).toEqual({
      path: '/v1/models/fraud-detector/metadata',
      port: 8080,
    });
  });

  it('the selector matcher is strict (so the checks above can fail)', () => {
    const sel = parseLabelSelector('backstage.io/kubernetes-id=fraud-detector');
    expect(
      matchesSelector(sel, { 'backstage.io/kubernetes-id': 'fraud-detector' }),
    ).toBe(true);
    expect(
      matchesSelector(sel, { 'backstage.io/kubernetes-id': 'other' }),
    ).toBe(false);
    expect(matchesSelector(sel, {})).toBe(false);
    expect(
      matchesSelector(parseLabelSelector('a in (x,y),!b'), { a: 'y' }),
    ).toBe(true);
    expect(() => parseLabelSelector('a ~ b')).toThrow(/cannot parse/);
  });

  it('TechDocs shows the model card of the published project docs; links have the local-git icon and titles', async () => {
    const model = await entity('resource:default/fraud-detector-model');
    const ann = model.metadata.annotations!;
    expect(ann['backstage.io/techdocs-ref']).toBe('dir:.');
    const docsOwner = await entity(ann['backstage.io/techdocs-entity']);
    expect(docsOwner.metadata.annotations?.['backstage.io/techdocs-ref']).toBe(
      'dir:.',
    );
    const repo = path.join(backend.dataDir, 'repos', 'fraud-detector');
    const mkdocs = yaml.parse(
      fs.readFileSync(path.join(repo, 'mkdocs.yml'), 'utf8'),
    );
    const page = ann['backstage.io/techdocs-entity-path'].replace(
      /^\/|\/$/g,
      '',
    );
    expect(mkdocs.nav).toContainEqual({ 'Model card': `${page}.md` });
    expect(
      fs.readFileSync(path.join(repo, 'docs', `${page}.md`), 'utf8'),
    ).toMatch(/^# Model card: fraud-detector/);

    const links = (e: typeof model) =>
      (e.metadata.links ?? []).map(l => ({
        title: l.title,
        icon: l.icon,
        url: l.url,
      }));
    expect(links(model).map(l => `${l.icon} ${l.title}`)).toEqual([
      'kind:location Repository (local git)',
      'docs Model card',
      'dashboard Smoke report',
      'scaffolder Scaffolder task',
    ]);
    for (const l of links(model).filter(x => x.url.startsWith('file:')))
      expect(fs.existsSync(new URL(l.url).pathname)).toBe(true);
    expect(links(model).find(l => l.title === 'Scaffolder task')?.url).toMatch(
      /^http:\/\/localhost:3000\/create\/tasks\/[\w-]+$/,
    );
    const endpoint = await entity('component:default/fraud-detector-endpoint');
    const gitopsLink = links(endpoint).find(l => l.title?.startsWith('GitOps'));
    expect(gitopsLink).toMatchObject({
      title: 'GitOps change (local git)',
      icon: 'kind:location',
    });
    expect(fs.existsSync(new URL(gitopsLink!.url).pathname)).toBe(true);
    expect(
      links(await entity('component:default/fraud-detector')).some(
        l => l.icon === 'github',
      ),
    ).toBe(false);
  });
});
