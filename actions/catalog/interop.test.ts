import fs from 'node:fs';
import path from 'node:path';
import {
  entityKindSchemaValidator,
  type Entity,
} from '@backstage/catalog-model';
import { deriveProject } from '../shared/naming';
import { buildCatalogEntities } from './buildEntities';
import {
  AI_MODEL_SERVER_TYPE,
  ANNOTATIONS,
  type CatalogEntitiesInput,
} from './entities';
import { gitopsLink, repositoryFileUrl, repositoryLink } from './links';
import { catalogEntityNames } from './names';
import { normaliseSignature } from './signature';
import { validateEntities } from './validate';

const repoRoot = path.resolve(__dirname, '../..');
/** RHDH's published schema of the AiModelServerAPI kind (committed copy, Apache-2.0; see test/fixtures/schemas/README.md). */
const rhdhSchema = JSON.parse(
  fs.readFileSync(
    path.join(
      repoRoot,
      'test/fixtures/schemas/rhdh/API.v1alpha1.ai-model-server.schema.json',
    ),
    'utf8',
  ),
);
// The call RHDH's AiModelServerApiEntity.ts makes with that schema.
const rhdhValidator = entityKindSchemaValidator(rhdhSchema);

const project = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  { namespacePrefix: 'ml-' },
);
const signature = normaliseSignature({
  inputs: [{ name: 'features', dtype: 'float32', shape: [-1, 30] }],
  outputs: [{ name: 'score', dtype: 'float32', shape: [-1, 1] }],
});

function input(over: Partial<CatalogEntitiesInput> = {}): CatalogEntitiesInput {
  return {
    project,
    names: catalogEntityNames(project),
    description: 'Scores card transactions',
    lifecycle: 'experimental',
    repo: {
      repoUrl: 'local?repo=fraud-detector',
      contentsUrl: 'file:///srv/repos/fraud-detector',
    },
    model: {
      signature,
      smoke: {
        backend: 'cpu',
        device: 'CPU',
        p50Ms: 1.5,
        date: '2026-11-29T06:00:00Z',
      },
    },
    serving: {
      namespace: 'ml-fraud-detector',
      restUrl:
        'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501/v1/models/fraud-detector',
      gatewayUrl:
        'https://models.example.com/fraud-detector/v1/models/fraud-detector',
      gitopsUrl: 'file:///srv/gitops#model/fraud-detector',
    },
    identity: { serviceAccount: 'fraud-detector-serving' },
    provenance: {
      initiator: 'user:default/jdoe',
      at: '2026-11-29T06:01:00.000Z',
      taskUrl: 'http://localhost:3000/create/tasks/t1',
    },
    ...over,
  };
}
const byKindName = (entities: Entity[]) =>
  Object.fromEntries(entities.map(e => [`${e.kind}:${e.metadata.name}`, e]));

describe('RHDH legacy shape (Resource ai-model + Component model-server + API)', () => {
  it('annotates the model Resource and the server Component as RHDH bridge entities are', async () => {
    const { entities } = buildCatalogEntities(input());
    await validateEntities(entities);
    const e = byKindName(entities);
    const model = e['Resource:fraud-detector-model'];
    const server = e['Component:fraud-detector-endpoint'];
    const api = e['API:fraud-detector-api'];
    expect(model.metadata.annotations).toMatchObject({
      'rhdh.modelcatalog.io/model-name': 'fraud-detector',
    });
    expect(model.spec).toMatchObject({
      type: 'ai-model',
      dependencyOf: ['component:default/fraud-detector-endpoint'],
    });
    expect(server.metadata.annotations).toMatchObject({
      'rhdh.modelcatalog.io/model-name': 'fraud-detector',
      'rhdh.modelcatalog.io/internal-service-url':
        'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501',
      'rhdh.modelcatalog.io/external-route-url':
        'https://models.example.com/fraud-detector',
    });
    expect(server.spec).toMatchObject({
      type: 'model-server',
      dependsOn: expect.arrayContaining([
        'resource:default/fraud-detector-model',
      ]),
      providesApis: ['api:default/fraud-detector-api'],
    });
    expect(server.metadata.tags).toContain('auth-required');
    expect(api.metadata.tags).toContain('auth-required');
    expect(server.metadata.tags).not.toContain('auth-not-required');
  });
});

describe('RHDH AiModelServerAPI shape', () => {
  it('is off by default', () => {
    const { entities, refs } = buildCatalogEntities(input());
    expect(entities.map(e => e.kind)).not.toContain('AiModelServerAPI');
    expect(refs.aiModelServerApi).toBeUndefined();
  });

  it("when enabled, builds one entity per server that RHDH's published schema accepts", async () => {
    const { entities, refs } = buildCatalogEntities(
      input({ rhdh: { aiModelServerApi: true } }),
    );
    await validateEntities(entities);
    const server = entities.find(e => e.kind === 'AiModelServerAPI')!;
    expect(refs.aiModelServerApi).toBe(
      'aimodelserverapi:default/fraud-detector-endpoint',
    );
    expect(server.spec).toEqual({
      type: 'ai-model-server',
      lifecycle: 'experimental',
      owner: 'group:default/ml-platform',
      serverType: AI_MODEL_SERVER_TYPE,
      serverUrl: 'https://models.example.com/fraud-detector',
      requiresApiKey: true,
      apiEntityRef: 'api:default/fraud-detector-api',
      models: {
        discoverable: false,
        available: ['fraud-detector'],
        default: 'fraud-detector',
      },
    });
    expect(rhdhValidator(server)).toBe(server);
    // apiEntityRef names the OpenAPI entity we register
    expect(
      entities.find(
        e =>
          e.kind === 'API' &&
          `api:default/${e.metadata.name}` === server.spec!.apiEntityRef,
      )?.spec?.type,
    ).toBe('openapi');
    // the schema does reject a broken entity, so the check above can fail
    expect(() =>
      rhdhValidator({ ...server, spec: { ...server.spec, serverUrl: '' } }),
    ).toThrow(/serverUrl/);
    expect(() =>
      rhdhValidator({ ...server, spec: { ...server.spec, type: 'openapi' } }),
    ).toThrow();
    // our own pre-write check agrees with the schema on the same breakages
    await expect(
      validateEntities([
        { ...server, spec: { ...server.spec, serverUrl: '' } },
      ]),
    ).rejects.toThrow(/spec\.serverUrl/);
  });

  it('without a gateway the server URL is the in-cluster base', () => {
    const { entities } = buildCatalogEntities(
      input({
        rhdh: { aiModelServerApi: true },
        serving: { ...input().serving!, gatewayUrl: undefined },
      }),
    );
    const server = entities.find(e => e.kind === 'AiModelServerAPI')!;
    expect(server.spec?.serverUrl).toBe(
      'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501',
    );
    expect(rhdhValidator(server)).toBe(server);
  });
});

describe('Kubernetes plugin annotations', () => {
  it('the endpoint and the model carry backstage.io/kubernetes-id and the namespace once served', () => {
    const e = byKindName(buildCatalogEntities(input()).entities);
    for (const name of [
      'Component:fraud-detector-endpoint',
      'Resource:fraud-detector-model',
    ]) {
      expect(e[name].metadata.annotations).toMatchObject({
        'backstage.io/kubernetes-id': 'fraud-detector',
        'backstage.io/kubernetes-namespace': 'ml-fraud-detector',
      });
    }
    const unserved = byKindName(
      buildCatalogEntities(input({ serving: undefined, identity: undefined }))
        .entities,
    );
    expect(
      unserved['Resource:fraud-detector-model'].metadata.annotations?.[
        'backstage.io/kubernetes-id'
      ],
    ).toBeUndefined();
  });
});

describe('TechDocs and links', () => {
  it("the model Resource shows the model card page of the repository's docs", () => {
    const model = byKindName(buildCatalogEntities(input()).entities)[
      'Resource:fraud-detector-model'
    ];
    expect(model.metadata.annotations).toMatchObject({
      [ANNOTATIONS.techdocsRef]: 'dir:.',
      [ANNOTATIONS.techdocsEntity]: 'component:default/fraud-detector',
      [ANNOTATIONS.techdocsEntityPath]: '/model-card/',
    });
  });

  it('gives each host its icon and title', () => {
    expect(
      repositoryLink('https://github.com/acme/fraud-detector/tree/main'),
    ).toMatchObject({ icon: 'github', title: 'Repository (GitHub)' });
    expect(
      repositoryLink('https://github.acme.corp/ml/fd/tree/main'),
    ).toMatchObject({ icon: 'github' });
    expect(repositoryLink('file:///srv/repos/fd')).toMatchObject({
      icon: 'kind:location',
      title: 'Repository (local git)',
    });
    expect(repositoryLink('https://gitlab.com/acme/fd')).toEqual({
      url: 'https://gitlab.com/acme/fd',
      title: 'Repository',
      type: 'repository',
    });
    expect(gitopsLink('https://github.com/acme/gitops/pull/7')).toMatchObject({
      icon: 'github',
      title: 'GitOps pull request',
    });
    expect(
      gitopsLink('https://github.com/acme/gitops/commit/0a1b2c3'),
    ).toMatchObject({ icon: 'github', title: 'GitOps commit' });
    expect(gitopsLink('file:///srv/gitops#model/fd')).toMatchObject({
      icon: 'kind:location',
      title: 'GitOps change (local git)',
    });
    expect(
      repositoryFileUrl(
        'https://github.com/acme/fd/tree/main',
        'docs/model-card.md',
      ),
    ).toBe('https://github.com/acme/fd/blob/main/docs/model-card.md');
    expect(
      repositoryFileUrl('https://github.com/acme/fd', 'smoke-report.json'),
    ).toBe('https://github.com/acme/fd/blob/HEAD/smoke-report.json');
    expect(repositoryFileUrl('file:///srv/repos/fd', 'smoke-report.json')).toBe(
      'file:///srv/repos/fd/smoke-report.json',
    );
  });

  it('puts the repository, model card, smoke report, GitOps change and task links on the entities', () => {
    const local = byKindName(buildCatalogEntities(input()).entities);
    const titles = (e: Entity) =>
      (e.metadata.links ?? []).map(l => `${l.icon ?? '-'} ${l.title}`);
    expect(titles(local['Resource:fraud-detector-model'])).toEqual([
      'kind:location Repository (local git)',
      'docs Model card',
      'dashboard Smoke report',
      'scaffolder Scaffolder task',
    ]);
    expect(titles(local['Component:fraud-detector-endpoint'])).toEqual([
      'kind:api REST endpoint (gateway)',
      'kind:api REST endpoint (in-cluster)',
      'kind:location GitOps change (local git)',
      'scaffolder Scaffolder task',
    ]);
    const github = byKindName(
      buildCatalogEntities(
        input({
          repo: {
            repoUrl: 'github.com?owner=acme&repo=fd',
            contentsUrl: 'https://github.com/acme/fd/tree/main',
            githubSlug: 'acme/fd',
          },
          serving: {
            ...input().serving!,
            gitopsUrl: 'https://github.com/acme/gitops/pull/7',
          },
        }),
      ).entities,
    );
    expect(github['Component:fraud-detector'].metadata.links).toEqual(
      expect.arrayContaining([
        {
          url: 'https://github.com/acme/fd/tree/main',
          title: 'Repository (GitHub)',
          icon: 'github',
          type: 'repository',
        },
        {
          url: 'https://github.com/acme/fd/blob/main/smoke-report.json',
          title: 'Smoke report',
          icon: 'dashboard',
          type: 'smoke-report',
        },
      ]),
    );
    expect(github['Component:fraud-detector-endpoint'].metadata.links).toEqual(
      expect.arrayContaining([
        {
          url: 'https://github.com/acme/gitops/pull/7',
          title: 'GitOps pull request',
          icon: 'github',
          type: 'gitops',
        },
      ]),
    );
    // no smoke run, no smoke report link
    const noSmoke = byKindName(
      buildCatalogEntities(input({ model: { signature } })).entities,
    );
    expect(titles(noSmoke['Component:fraud-detector'])).not.toContain(
      'dashboard Smoke report',
    );
  });
});
