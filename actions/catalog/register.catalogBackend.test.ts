import { writeProvisioningRecord } from '../../test/support/access/project';
import { LocalClaimStore } from '../gitops/claims';
import { LocalGitOpsTarget } from '../gitops/local';
import { DEFAULT_ACCESS_POLICY } from '../access/config';
/**
 * The action against the real catalog backend (SQLite, in-process): real addLocation,
 * real 409 on re-run, real processing, relations read back. The lead's end-to-end test
 * covers the scaffolder and template around it.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  coreServices,
  createBackendPlugin,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import {
  catalogServiceRef,
  type CatalogService,
} from '@backstage/plugin-catalog-node';
import yaml from 'yaml';
import {
  actionContext,
  makeWorkspace,
  mockAuditor,
} from '../../test/support/actionContext';
import { catalogModuleAllowFileLocations } from '../../dev/modules';
import { LocalRepositoryPublisher } from '../repository/local';
import { DEFAULT_CATALOG_CONFIG } from './config';
import { createCatalogRegisterAction } from './register';

const org = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'ml-platform' },
    spec: { type: 'team', children: [] },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'risk' },
    spec: { type: 'team', children: [] },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'jdoe' },
    spec: { memberOf: ['ml-platform'] },
  },
];

// Module scope: its afterAll (destroying the databases) runs after the describe's afterAll (stopping the backend).
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('tensorflow:catalog:register against the real catalog', () => {
  let catalog: CatalogService;
  let stop: () => Promise<void>;
  const root = makeWorkspace('catalog-real-');

  beforeAll(async () => {
    const orgFile = path.join(root, 'org.yaml');
    fs.writeFileSync(orgFile, org.map(e => yaml.stringify(e)).join('---\n'));
    const perPluginSqlite = createServiceFactory({
      service: coreServices.database,
      deps: {},
      async factory() {
        const knex = await databases.init('SQLITE_3');
        return { getClient: async () => knex };
      },
    });
    const probe = createBackendPlugin({
      pluginId: 'probe',
      register(reg) {
        reg.registerInit({
          deps: { c: catalogServiceRef },
          async init({ c }) {
            catalog = c;
          },
        });
      },
    });
    const backend = await startTestBackend({
      features: [
        import('@backstage/plugin-catalog-backend'),
        catalogModuleAllowFileLocations,
        probe,
        perPluginSqlite,
        mockServices.rootLogger.factory({ level: 'warn' }),
        mockServices.rootConfig.factory({
          data: {
            catalog: {
              rules: [
                {
                  allow: [
                    'Component',
                    'System',
                    'API',
                    'Resource',
                    'Location',
                    'Group',
                    'User',
                  ],
                },
              ],
              locations: [{ type: 'file', target: orgFile }],
            },
          },
        }),
      ],
    });
    stop = () => backend.stop();
    const credentials = mockCredentials.user('user:default/jdoe');
    const deadline = Date.now() + 30000;
    while (
      !(await catalog.getEntityByRef('user:default/jdoe', { credentials }))
    ) {
      if (Date.now() > deadline) throw new Error('org not ingested');
      await new Promise(r => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    await new Promise(r => setTimeout(r, 1000));
    await stop?.();
  });

  it('registers, reads relations back, re-runs through 409 + refresh, and refuses to steal', async () => {
    const publisher = new LocalRepositoryPublisher(path.join(root, 'repos'));
    const src = makeWorkspace('catalog-real-src-');
    fs.writeFileSync(path.join(src, 'README.md'), '# x\n');
    writeProvisioningRecord(src);
    await publisher.publish({
      repoUrl: 'local?repo=fraud-detector',
      sourceDir: src,
      message: 'init',
      author: { name: 'jdoe', email: 'j@x' },
    });
    const action = createCatalogRegisterAction({
      catalog,
      publishers: [publisher],
      auditor: mockAuditor(),
      naming: { namespacePrefix: 'ml-' },
      catalogConfig: { ...DEFAULT_CATALOG_CONFIG, waitTimeoutSeconds: 30 },
      baseUrl: 'http://localhost:3000',
      pollIntervalMs: 200,
      projectAccess: {
        catalog,
        policy: DEFAULT_ACCESS_POLICY,
        claims: new LocalClaimStore(
          new LocalGitOpsTarget({ path: path.join(root, 'gitops') }),
        ),
        auditor: mockAuditor(),
      },
    });
    const input = {
      name: 'fraud-detector',
      owner: 'group:default/ml-platform',
      description: 'Scores card transactions',
      repoUrl: 'local?repo=fraud-detector',
      model: {
        signature: {
          inputs: [{ name: 'features', dtype: 'float32', shape: [-1, 30] }],
          outputs: [{ name: 'score', dtype: 'float32', shape: [-1, 1] }],
        },
      },
      serving: {
        namespace: 'ml-fraud-detector',
        restUrl: 'http://fd.ml-fraud-detector.svc:8501',
        grpcUrl: 'fd.ml-fraud-detector.svc:8500',
      },
      identity: { serviceAccount: 'fraud-detector-serving' },
    };
    const credentials = mockCredentials.user('user:default/jdoe');

    const first = actionContext(input);
    first.ctx.getInitiatorCredentials = async () => credentials;
    await action.handler(first.ctx as any);
    const endpoint = (await catalog.getEntityByRef(
      'component:default/fraud-detector-endpoint',
      { credentials },
    )) as Entity;
    const rel = (e: Entity) =>
      (e.relations ?? []).map(r => `${r.type} ${r.targetRef}`).sort();
    expect(rel(endpoint)).toEqual(
      expect.arrayContaining([
        'dependsOn resource:default/fraud-detector-model',
        'dependsOn resource:default/fraud-detector-serving-sa',
        'ownedBy group:default/ml-platform',
        'providesApi api:default/fraud-detector-api',
      ]),
    );
    const model = (await catalog.getEntityByRef(
      'resource:default/fraud-detector-model',
      { credentials },
    )) as Entity;
    expect(rel(model)).toEqual(
      expect.arrayContaining([
        'dependencyOf component:default/fraud-detector-endpoint',
        'ownedBy group:default/ml-platform',
      ]),
    );

    // a later task: the location exists (409), the action refreshes it and waits for the new version
    const second = actionContext({
      ...input,
      description: 'Scores card transactions, v2',
    });
    second.ctx.task = { id: 'task-2' };
    second.ctx.getInitiatorCredentials = async () => credentials;
    await action.handler(second.ctx as any);
    const repo = (await catalog.getEntityByRef(
      'component:default/fraud-detector',
      { credentials },
    )) as Entity;
    expect(repo.metadata.description).toBe('Scores card transactions, v2');
    const { items } = await catalog.getEntities(
      { filter: { kind: 'Location' } },
      { credentials },
    );
    expect(
      items.filter(l =>
        String(l.spec?.target).endsWith('fraud-detector/catalog-info.yaml'),
      ),
    ).toHaveLength(1);

    // another repository claiming the same names is refused
    await publisher.publish({
      repoUrl: 'local?repo=impostor',
      sourceDir: src,
      message: 'init',
      author: { name: 'jdoe', email: 'j@x' },
    });
    const third = actionContext({ ...input, repoUrl: 'local?repo=impostor' });
    third.ctx.getInitiatorCredentials = async () => credentials;
    await expect(action.handler(third.ctx as any)).rejects.toMatchObject({
      name: 'ConflictError',
    });
  });
});
