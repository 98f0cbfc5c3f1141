import { parseGatewayConfig } from '../gateway/config';
import { accessLogUrl } from '../gateway/visibility';
import SwaggerParser from '@apidevtools/swagger-parser';
import yaml from 'yaml';
import { deriveProject } from '../shared/naming';
import { buildCatalogEntities } from './buildEntities';
import {
  ANNOTATIONS,
  normaliseGrants,
  type CatalogEntitiesInput,
} from './entities';
import { catalogEntityNames, ENTITY_NAME_MAX } from './names';
import { buildOpenApiDocument } from './openapi';
import { normaliseSignature } from './signature';
import { validateEntities } from './validate';

const project = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  { namespacePrefix: 'ml-' },
);
const signature = normaliseSignature({
  name: 'serving_default',
  inputs: [
    { name: 'features', dtype: 'float32', shape: [-1, 30] },
    { name: 'merchant_id', dtype: 'DT_INT64', shape: [null] },
  ],
  outputs: [{ name: 'fraud_score', dtype: 'float32', shape: [-1, 1] }],
});

function input(over: Partial<CatalogEntitiesInput> = {}): CatalogEntitiesInput {
  return {
    project,
    names: catalogEntityNames(project),
    description: 'Scores card transactions',
    lifecycle: 'experimental',
    system: 'fraud',
    repo: {
      repoUrl: 'github.com?owner=acme&repo=fraud-detector',
      contentsUrl: 'https://github.com/acme/fraud-detector',
      githubSlug: 'acme/fraud-detector',
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
        'http://fraud-detector.ml-fraud-detector.svc:8501/v1/models/fraud-detector',
      grpcUrl: 'fraud-detector.ml-fraud-detector.svc:8500',
      gatewayUrl:
        'https://models.example.com/fraud-detector/v1/models/fraud-detector',
      gitopsUrl: 'https://github.com/acme/gitops/pull/7',
    },
    identity: {
      serviceAccount: 'fraud-detector-serving',
      grants: { 'group:default/risk': ['predict'], 'ml-platform': ['admin'] },
    },
    provenance: {
      initiator: 'user:default/jdoe',
      at: '2026-11-29T06:01:00.000Z',
      taskUrl: 'http://localhost:3000/create/tasks/t1',
    },
    ...over,
  };
}

describe('catalogEntityNames', () => {
  it('derives every name from the project in one place', () => {
    expect(catalogEntityNames(project)).toEqual({
      namespace: 'default',
      repo: 'fraud-detector',
      model: 'fraud-detector-model',
      endpoint: 'fraud-detector-endpoint',
      api: 'fraud-detector-api',
      serviceAccount: 'fraud-detector-serving-sa',
    });
  });
  it('fits the longest project name without truncation, so names stay injective', () => {
    const longest = deriveProject(
      { name: `a${'b'.repeat(50)}c`, owner: 'group:default/x' },
      { namespacePrefix: '' },
    );
    const n = catalogEntityNames(longest);
    for (const v of Object.values(n))
      expect(v.length).toBeLessThanOrEqual(ENTITY_NAME_MAX);
    expect(n.serviceAccount).toBe(`${longest.name}-serving-sa`);
    expect(() =>
      deriveProject(
        { name: `a${'b'.repeat(51)}c`, owner: 'group:default/x' },
        { namespacePrefix: '' },
      ),
    ).toThrow(
      /at most 52 \(its service-account entity "<name>-serving-sa" must fit 63\)/,
    );
  });
});

describe('buildCatalogEntities', () => {
  it('builds all five entities that pass the catalog-model validators', async () => {
    const { entities, refs } = buildCatalogEntities(input());
    await validateEntities(entities);
    expect(refs).toEqual({
      repo: 'component:default/fraud-detector',
      model: 'resource:default/fraud-detector-model',
      endpoint: 'component:default/fraud-detector-endpoint',
      api: 'api:default/fraud-detector-api',
      serviceAccount: 'resource:default/fraud-detector-serving-sa',
    });
    const byName = Object.fromEntries(entities.map(e => [e.metadata.name, e]));
    for (const e of entities) {
      expect(e.spec?.owner).toBe('group:default/ml-platform');
      expect(e.metadata.annotations?.[ANNOTATIONS.provisionedBy]).toBe(
        'user:default/jdoe',
      );
      expect(e.metadata.annotations?.[ANNOTATIONS.taskUrl]).toBe(
        'http://localhost:3000/create/tasks/t1',
      );
      expect(e.spec?.system).toBe('system:default/fraud');
    }
    const endpoint = byName['fraud-detector-endpoint'];
    expect(endpoint.spec).toMatchObject({
      type: 'model-server',
      dependsOn: [
        'resource:default/fraud-detector-model',
        'resource:default/fraud-detector-serving-sa',
      ],
      providesApis: ['api:default/fraud-detector-api'],
    });
    expect(endpoint.metadata.annotations).toMatchObject({
      'rhdh.modelcatalog.io/model-name': 'fraud-detector',
      'rhdh.modelcatalog.io/internal-service-url':
        'http://fraud-detector.ml-fraud-detector.svc:8501',
      'rhdh.modelcatalog.io/external-route-url':
        'https://models.example.com/fraud-detector',
    });
    expect(
      JSON.parse(endpoint.metadata.annotations![ANNOTATIONS.accessScopes]),
    ).toEqual({
      'group:default/ml-platform': ['admin'],
      'group:default/risk': ['predict'],
    });
    expect(byName['fraud-detector-model'].spec).toMatchObject({
      type: 'ai-model',
      dependencyOf: ['component:default/fraud-detector-endpoint'],
    });
    expect(byName['fraud-detector-serving-sa'].spec).toMatchObject({
      type: 'service-account',
    });
    const repo = byName['fraud-detector'];
    expect(repo.spec).toMatchObject({
      type: 'model-project',
      lifecycle: 'experimental',
    });
    expect(repo.metadata.annotations).toMatchObject({
      'backstage.io/techdocs-ref': 'dir:.',
      'github.com/project-slug': 'acme/fraud-detector',
      'backstage.io/source-location':
        'url:https://github.com/acme/fraud-detector',
      [ANNOTATIONS.smokeBackend]: 'cpu',
      [ANNOTATIONS.smokeDevice]: 'CPU',
      [ANNOTATIONS.smokeP50Ms]: '1.5',
      [ANNOTATIONS.smokeDate]: '2026-11-29T06:00:00Z',
      [ANNOTATIONS.servingNamespace]: 'ml-fraud-detector',
      [ANNOTATIONS.gitopsChangeUrl]: 'https://github.com/acme/gitops/pull/7',
    });
    expect(byName['fraud-detector-api'].spec?.type).toBe('openapi');
  });

  it('without serving and identity builds only the repository and the model', async () => {
    const { entities, refs } = buildCatalogEntities(
      input({ serving: undefined, identity: undefined }),
    );
    await validateEntities(entities);
    expect(entities.map(e => `${e.kind}:${e.metadata.name}`)).toEqual([
      'Component:fraud-detector',
      'Resource:fraud-detector-model',
    ]);
    expect(refs.endpoint).toBeUndefined();
    expect(entities[1].spec?.dependencyOf).toBeUndefined();
  });

  it('refuses serving without a signature', () => {
    expect(() => buildCatalogEntities(input({ model: {} }))).toThrow(
      /model\.signature is required/,
    );
  });

  it('reports validation errors with the entity and the field', async () => {
    const { entities } = buildCatalogEntities(input());
    const bad = JSON.parse(JSON.stringify(entities));
    bad[0].metadata.name = 'x'.repeat(70);
    await expect(validateEntities(bad)).rejects.toThrow(
      /component:default\/x+ is invalid at metadata\.name/,
    );
    const noOwner = JSON.parse(JSON.stringify(entities));
    delete noOwner[1].spec.owner;
    await expect(validateEntities(noOwner)).rejects.toThrow(
      /resource:default\/fraud-detector-model is invalid at spec\.owner/,
    );
    const badAnn = JSON.parse(JSON.stringify(entities));
    badAnn[2].metadata.annotations['not valid!'] = 'x';
    await expect(validateEntities(badAnn)).rejects.toThrow(
      /is invalid at annotations\.not valid!/,
    );
  });

  it('normalises grants', () => {
    expect(
      normaliseGrants({ risk: ['predict', 'predict', 'read-metadata'] }),
    ).toEqual({ 'group:default/risk': ['predict', 'read-metadata'] });
    expect(() => normaliseGrants({ 'user:default/x': ['predict'] })).toThrow(
      /not a group ref/,
    );
  });
});

describe('access records on the endpoint (tensorflow.gateway.accessLogUrlTemplate)', () => {
  const endpoint = (built: ReturnType<typeof buildCatalogEntities>) =>
    built.entities.find(e => e.metadata.name === 'fraud-detector-endpoint')!;
  it('annotates and links the access records when configured, next to the access scopes', () => {
    const url = accessLogUrl(
      project,
      parseGatewayConfig({
        accessLogUrlTemplate:
          'https://logs.example.com/app/{namespace}?workload={name}',
      }),
    )!;
    const e = endpoint(buildCatalogEntities(input({ accessLogUrl: url })));
    expect(e.metadata.annotations?.[ANNOTATIONS.accessLogUrl]).toBe(
      'https://logs.example.com/app/ml-fraud-detector?workload=fraud-detector',
    );
    expect(e.metadata.links).toContainEqual({
      url,
      title: 'Access records',
      icon: 'docs',
    });
    expect(e.metadata.annotations?.[ANNOTATIONS.accessScopes]).toBeDefined();
  });
  it('carries neither when not configured', () => {
    const e = endpoint(buildCatalogEntities(input()));
    expect(e.metadata.annotations?.[ANNOTATIONS.accessLogUrl]).toBeUndefined();
    expect(e.metadata.links?.some(l => l.title === 'Access records')).toBe(
      false,
    );
  });
});

describe('OpenAPI generation', () => {
  it('is a valid OpenAPI 3 document naming the real inputs and outputs', async () => {
    const { entities } = buildCatalogEntities(input());
    const api = entities.find(e => e.kind === 'API')!;
    const doc = yaml.parse(api.spec!.definition as string);
    const validated = await SwaggerParser.validate(structuredClone(doc));
    expect((validated as { openapi?: string }).openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual([
      '/v1/models/fraud-detector',
      '/v1/models/fraud-detector/metadata',
      '/v1/models/fraud-detector:predict',
    ]);
    const columnar =
      doc.components.schemas.PredictColumnarRequest.properties.inputs;
    expect(Object.keys(columnar.properties)).toEqual([
      'features',
      'merchant_id',
    ]);
    expect(columnar.properties.features['x-tensor']).toEqual({
      name: 'features',
      dtype: 'DT_FLOAT',
      shape: [-1, 30],
    });
    expect(columnar.properties.features.items).toMatchObject({
      type: 'array',
      minItems: 30,
      maxItems: 30,
      items: { type: 'number' },
    });
    expect(columnar.properties.merchant_id.items).toMatchObject({
      type: 'integer',
      format: 'int64',
    });
    const row =
      doc.components.schemas.PredictRowRequest.properties.instances.items;
    expect(row.properties.features).toMatchObject({
      type: 'array',
      minItems: 30,
    });
    expect(row.properties.merchant_id).toMatchObject({ type: 'integer' });
    const [rowRes, colRes] = doc.components.schemas.PredictResponse.oneOf;
    expect(rowRes.properties.predictions.items['x-tensor'].name).toBe(
      'fraud_score',
    );
    expect(colRes.properties.outputs.title).toBe('fraud_score');
    // the validator does reject a broken document (so this test can fail)
    const broken = structuredClone(doc);
    delete broken.paths['/v1/models/fraud-detector:predict'].post.responses;
    await expect(SwaggerParser.validate(broken)).rejects.toThrow(/responses/);
    // servers are the bases: paths already carry /v1/models/<name>
    expect(doc.servers.map((s: { url: string }) => s.url)).toEqual([
      'https://models.example.com/fraud-detector',
      'http://fraud-detector.ml-fraud-detector.svc:8501',
    ]);
  });

  it('handles a single input, strings and unknown rank, and stays valid', async () => {
    const sig = normaliseSignature({
      inputs: [{ name: 'text', dtype: 'string', shape: [-1] }],
      outputs: [
        { name: 'embedding', dtype: 'float32', shape: null },
        { name: 'label', dtype: 'bool', shape: [-1] },
      ],
    });
    const doc = buildOpenApiDocument(sig, {
      modelName: 'm',
      title: 't',
      servers: [{ url: 'http://m:8501', description: 'x' }],
    });
    await expect(
      SwaggerParser.validate(structuredClone(doc) as any),
    ).resolves.toBeTruthy();
    const text = JSON.stringify(doc);
    expect(text).toContain('"b64"');
    expect(text).toContain('unknown rank');
  });

  it('rejects dtypes TF Serving cannot carry in JSON, naming the field', () => {
    expect(() =>
      normaliseSignature({
        inputs: [{ name: 'z', dtype: 'complex64', shape: [1] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
      }),
    ).toThrow(/model\.signature\.inputs\[0\]\.dtype "complex64"/);
    expect(() => normaliseSignature({ inputs: [], outputs: [] })).toThrow(
      /model\.signature\.inputs must list/,
    );
  });
});
