import { writeProvisioningRecord } from '../../test/support/access/project';
import { LocalClaimStore } from '../gitops/claims';
import { LocalGitOpsTarget } from '../gitops/local';
import { DEFAULT_ACCESS_POLICY } from '../access/config';
import fs from 'node:fs';
import path from 'node:path';
import type { Entity } from '@backstage/catalog-model';
import { Validator } from 'jsonschema';
import yaml from 'yaml';
import {
  actionContext,
  makeWorkspace,
  mockAuditor,
} from '../../test/support/actionContext';
import { LocalRepositoryPublisher } from '../repository/local';
import { git } from '../shared/git';
import { DEFAULT_CATALOG_CONFIG, type CatalogConfig } from './config';
import { ANNOTATIONS } from './entities';
import { createCatalogRegisterAction } from './register';
import { examples } from './register.examples';
import { FileCatalog } from '../../test/support/fileCatalog';

const group = (name: string, members: string[] = []): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name, namespace: 'default' },
  spec: { type: 'team', children: [], members },
});
const user = (name: string, memberOf: string[]): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name, namespace: 'default' },
  spec: { memberOf },
  relations: memberOf.map(g => ({
    type: 'memberOf',
    targetRef: `group:default/${g}`,
  })),
});
const org = () => [
  group('ml-platform'),
  group('ml-research'),
  group('risk'),
  user('jdoe', ['ml-platform']),
  user('mallory', ['risk']),
];

const signature = {
  name: 'serving_default',
  inputs: [{ name: 'features', dtype: 'float32', shape: [-1, 30] }],
  outputs: [{ name: 'fraud_score', dtype: 'float32', shape: [-1, 1] }],
};
const fullInput = {
  name: 'fraud-detector',
  owner: 'group:default/ml-platform',
  description: 'Scores card transactions',
  repoUrl: 'local?repo=fraud-detector',
  // shapes as tensorflow:model:validate, :serving:provision and :identity:provision output them
  model: { signature, smoke: { backend: 'cpu', device: 'cpu', p50Ms: 2.5 } },
  serving: {
    namespace: 'ml-fraud-detector',
    restUrl:
      'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501/v1/models/fraud-detector',
    grpcUrl: 'fraud-detector.ml-fraud-detector.svc.cluster.local:8500',
  },
  identity: {
    serviceAccount: {
      namespace: 'ml-fraud-detector',
      name: 'fraud-detector-serving',
      ref: 'ml-fraud-detector/fraud-detector-serving',
    },
    grants: {
      'group:default/ml-platform': ['admin'],
      'group:default/risk': ['predict'],
    },
  },
};

async function setup(
  opts: { catalog?: FileCatalog; catalogConfig?: Partial<CatalogConfig> } = {},
) {
  const root = makeWorkspace('catalog-repos-');
  const publisher = new LocalRepositoryPublisher(root);
  const src = makeWorkspace('catalog-src-');
  fs.writeFileSync(path.join(src, 'README.md'), '# fraud-detector\n');
  writeProvisioningRecord(src);
  for (const repo of ['fraud-detector']) {
    await publisher.publish({
      repoUrl: `local?repo=${repo}`,
      sourceDir: src,
      message: 'Initial commit',
      author: { name: 'jdoe', email: 'jdoe@x' },
    });
  }
  const catalog =
    opts.catalog ?? new FileCatalog({ entities: org(), lagReads: 2 });
  const auditor = mockAuditor();
  const claims = new LocalClaimStore(
    new LocalGitOpsTarget({ path: makeWorkspace('catalog-claims-') }),
  );
  const action = createCatalogRegisterAction({
    catalog: catalog.service(),
    publishers: [publisher],
    auditor,
    naming: { namespacePrefix: 'ml-' },
    catalogConfig: { ...DEFAULT_CATALOG_CONFIG, ...opts.catalogConfig },
    baseUrl: 'http://localhost:3000/',
    pollIntervalMs: 5,
    projectAccess: {
      catalog: catalog.service(),
      policy: DEFAULT_ACCESS_POLICY,
      claims,
      auditor,
    },
  });
  const repoDir = path.join(root, 'fraud-detector');
  const commits = async () =>
    Number(
      (
        await git(['rev-list', '--count', 'HEAD'], { cwd: repoDir })
      ).stdout.trim(),
    );
  return { publisher, catalog, auditor, action, repoDir, commits, claims };
}

describe('tensorflow:catalog:register', () => {
  it('declares input and output schemas and dry-run support', async () => {
    const { action } = await setup();
    expect(action.schema?.input).toBeDefined();
    expect(action.schema?.output).toBeDefined();
    expect(action.supportsDryRun).toBe(true);
  });

  it('commits catalog-info.yaml, registers the location and waits for all five entities', async () => {
    const { action, catalog, auditor, repoDir, commits } = await setup();
    const run = actionContext(fullInput);
    await action.handler(run.ctx as any);

    expect(run.outputs).toMatchObject({
      repoEntityRef: 'component:default/fraud-detector',
      modelEntityRef: 'resource:default/fraud-detector-model',
      endpointEntityRef: 'component:default/fraud-detector-endpoint',
      apiEntityRef: 'api:default/fraud-detector-api',
      serviceAccountEntityRef: 'resource:default/fraud-detector-serving-sa',
      endpointEntityUrl:
        'http://localhost:3000/catalog/default/component/fraud-detector-endpoint',
      apiEntityUrl:
        'http://localhost:3000/catalog/default/api/fraud-detector-api',
      catalogLocation: `file:${path.join(repoDir, 'catalog-info.yaml')}`,
    });
    expect(run.outputs.entityRefs).toHaveLength(5);

    const committed = (
      await git(['show', 'HEAD:catalog-info.yaml'], { cwd: repoDir })
    ).stdout;
    const docs = yaml.parseAllDocuments(committed).map(d => d.toJS());
    expect(docs.map(d => d.metadata.name)).toEqual([
      'fraud-detector',
      'fraud-detector-model',
      'fraud-detector-serving-sa',
      'fraud-detector-api',
      'fraud-detector-endpoint',
    ]);
    expect(
      fs.readFileSync(
        path.join(run.workspacePath, 'catalog-info.yaml'),
        'utf8',
      ),
    ).toBe(committed);
    expect(docs[0].metadata.annotations[ANNOTATIONS.taskUrl]).toBe(
      'http://localhost:3000/create/tasks/task-1234',
    );
    // no smoke date given: the task's (checkpointed) time stands in
    expect(docs[0].metadata.annotations[ANNOTATIONS.smokeDate]).toBe(
      docs[0].metadata.annotations[ANNOTATIONS.provisionedAt],
    );
    expect(
      docs[4].metadata.annotations['rhdh.modelcatalog.io/internal-service-url'],
    ).toBe('http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501');
    expect(
      (
        await git(['log', '-1', '--format=%an'], { cwd: repoDir })
      ).stdout.trim(),
    ).toBe('jdoe');
    expect(await commits()).toBe(2);

    const endpoint = catalog.entities.find(
      e => e.metadata.name === 'fraud-detector-endpoint',
    )!;
    expect(endpoint.relations).toEqual([
      { type: 'ownedBy', targetRef: 'group:default/ml-platform' },
    ]);
    expect(catalog.calls).toEqual([
      `addLocation file:${path.join(repoDir, 'catalog-info.yaml')}`,
    ]);
    expect(auditor.createEvent).toHaveBeenCalledWith(
      expect.objectContaining({
        eventId: 'catalog-entities-registered',
        meta: expect.objectContaining({
          initiator: 'user:default/jdoe',
          taskId: 'task-1234',
          entityRefs: run.outputs.entityRefs,
        }),
      }),
    );
  });

  it('re-runs idempotently: 409 on the location -> refresh, no duplicates, no empty commits', async () => {
    const { action, catalog, commits } = await setup();
    const checkpoints = new Map<string, unknown>();
    await action.handler(actionContext(fullInput, { checkpoints }).ctx as any);
    const count = catalog.entities.length;
    expect(await commits()).toBe(2);

    // retry of the same task: same checkpointed time, same file, no new commit
    await action.handler(actionContext(fullInput, { checkpoints }).ctx as any);
    expect(catalog.entities).toHaveLength(count);
    expect(await commits()).toBe(2);
    expect(catalog.locations).toHaveLength(1);
    expect(catalog.calls[1]).toBe(
      `addLocation ${catalog.locations[0].type}:${catalog.locations[0].target}`,
    );
    expect(catalog.calls[2]).toMatch(
      /^refreshEntity location:default\/generated-[0-9a-f]{40}$/,
    );

    // a later task updates the entities in place
    const later = actionContext({
      ...fullInput,
      description: 'Scores card transactions, v2',
    });
    later.ctx.task = { id: 'task-5678' };
    await action.handler(later.ctx as any);
    expect(catalog.entities).toHaveLength(count);
    expect(await commits()).toBe(3);
    const repo = catalog.entities.find(
      e => e.metadata.name === 'fraud-detector',
    )!;
    expect(repo.metadata.description).toBe('Scores card transactions, v2');
    expect(repo.metadata.annotations?.[ANNOTATIONS.taskUrl]).toBe(
      'http://localhost:3000/create/tasks/task-5678',
    );
  });

  it('registers only the repository and the model when serving and identity are absent, then adds the rest', async () => {
    const { action, catalog } = await setup();
    const first = actionContext({
      ...fullInput,
      serving: undefined,
      identity: undefined,
    });
    await action.handler(first.ctx as any);
    expect(first.outputs.entityRefs).toEqual([
      'component:default/fraud-detector',
      'resource:default/fraud-detector-model',
    ]);
    expect(first.outputs.endpointEntityRef).toBeUndefined();

    // self-service run later: no signature given, it is read back from the model entity
    const second = actionContext({ ...fullInput, model: undefined });
    second.ctx.task = { id: 'task-2' };
    await action.handler(second.ctx as any);
    expect(second.outputs.entityRefs).toHaveLength(5);
    const api = catalog.entities.find(e => e.kind === 'API')!;
    expect(api.spec?.definition).toContain('features');
  });

  it('refuses an unknown owner with a suggestion, and writes nothing', async () => {
    const { action, catalog, commits } = await setup();
    const run = actionContext({
      ...fullInput,
      owner: 'group:default/ml-platfrom',
    });
    await expect(action.handler(run.ctx as any)).rejects.toThrow(
      /does not exist in the catalog\. Did you mean "group:default\/ml-platform"\?/,
    );
    expect(catalog.calls).toEqual([]);
    expect(await commits()).toBe(1);
    expect(
      fs.existsSync(path.join(run.workspacePath, 'catalog-info.yaml')),
    ).toBe(false);
  });

  it('refuses a project another owner has claimed, and writes nothing', async () => {
    const { action, catalog, commits, claims } = await setup();
    await claims.create({
      project: 'fraud-detector',
      owner: 'group:default/risk',
      claimedBy: 'user:default/rita',
      taskId: 'task-1',
      claimedAt: '2026-01-01T00:00:00Z',
    });
    const run = actionContext(fullInput);
    await expect(action.handler(run.ctx as any)).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringMatching(
        /model project "fraud-detector" is owned by group:default\/risk .*not by group:default\/ml-platform/,
      ),
    });
    expect(catalog.calls).toEqual([]);
    expect(await commits()).toBe(1);
  });

  it('refuses a repository bound to another project, and writes nothing', async () => {
    const { action, catalog, publisher, claims } = await setup();
    const other = makeWorkspace('catalog-other-');
    fs.writeFileSync(path.join(other, 'README.md'), '# victim\n');
    await publisher.publish({
      repoUrl: 'local?repo=victim',
      sourceDir: other,
      message: 'init',
      author: { name: 'v', email: 'v@x' },
    });
    const run = actionContext({ ...fullInput, repoUrl: 'local?repo=victim' });
    await expect(action.handler(run.ctx as any)).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringMatching(
        /refuses repository local\?repo=victim: it already exists and carries no \.backstage\/provisioning\.json/,
      ),
    });
    expect(catalog.calls).toEqual([]);
    expect((await claims.get('fraud-detector'))?.owner).toBe(
      'group:default/ml-platform',
    );
  });

  it('refuses a non-member with the default membership check', async () => {
    const { action } = await setup();
    await expect(
      action.handler(
        actionContext(fullInput, { userRef: 'user:default/mallory' })
          .ctx as any,
      ),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
    });
  });

  it('never steals an entity registered from another location', async () => {
    const foreign: Entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'fraud-detector',
        namespace: 'default',
        annotations: {
          'backstage.io/managed-by-origin-location':
            'url:https://github.com/other/repo/blob/main/catalog-info.yaml',
        },
      },
      spec: {
        type: 'service',
        owner: 'group:default/ml-platform',
        lifecycle: 'production',
      },
    };
    const catalog = new FileCatalog({ entities: [...org(), foreign] });
    const { action, commits } = await setup({ catalog });
    await expect(
      action.handler(actionContext(fullInput).ctx as any),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining(
        'component:default/fraud-detector already exists in the catalog, registered from url:https://github.com/other/repo',
      ),
    });
    expect(catalog.calls).toEqual([]);
    expect(await commits()).toBe(1);
  });

  it('never takes over an entity another owner holds: refused before anything is claimed or written', async () => {
    const theirs: Entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'fraud-detector-endpoint', namespace: 'default' },
      spec: {
        type: 'service',
        owner: 'group:default/risk',
        lifecycle: 'production',
      },
    };
    const catalog = new FileCatalog({ entities: [...org(), theirs] });
    const { action, commits, claims } = await setup({ catalog });
    await expect(
      action.handler(actionContext(fullInput).ctx as any),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringContaining(
        'component:default/fraud-detector-endpoint already exists in the catalog, owned by group:default/risk',
      ),
    });
    expect(catalog.calls).toEqual([]);
    expect(await commits()).toBe(1);
    expect(await claims.get('fraud-detector')).toBeUndefined();
  });

  it('dry run returns the entities and writes, commits and registers nothing', async () => {
    const { action, catalog, auditor, commits } = await setup();
    const run = actionContext(fullInput, { isDryRun: true });
    await action.handler(run.ctx as any);
    expect((run.outputs.entities as Entity[]).map(e => e.kind)).toEqual([
      'Component',
      'Resource',
      'Resource',
      'API',
      'Component',
    ]);
    expect(run.outputs.endpointEntityRef).toBe(
      'component:default/fraud-detector-endpoint',
    );
    expect(fs.readdirSync(run.workspacePath)).toEqual([]);
    expect(catalog.calls).toEqual([]);
    expect(await commits()).toBe(1);
    expect(auditor.createEvent).not.toHaveBeenCalled();
  });

  it('gives up after the configured wait with a clear message, and audits the failure', async () => {
    const catalog = new FileCatalog({ entities: org(), stuck: true });
    const { action, auditor } = await setup({
      catalog,
      catalogConfig: { waitTimeoutSeconds: 0.2 },
    });
    await expect(
      action.handler(actionContext(fullInput).ctx as any),
    ).rejects.toThrow(
      /the catalog did not show component:default\/fraud-detector, .* within 0\.2s \(tensorflow\.catalog\.waitTimeoutSeconds\)/,
    );
    const calls = (auditor.createEvent as jest.Mock).mock.calls.map(
      c => c[0].eventId,
    );
    const event = await (auditor.createEvent as jest.Mock).mock.results[
      calls.indexOf('catalog-entities-registered')
    ].value;
    expect(event.fail).toHaveBeenCalled();
  });

  it('stops waiting when the task is cancelled', async () => {
    const catalog = new FileCatalog({ entities: org(), stuck: true });
    const { action } = await setup({ catalog });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      action.handler(
        actionContext(fullInput, { signal: controller.signal }).ctx as any,
      ),
    ).rejects.toThrow(/cancelled/);
  });

  it('rejects inputs that disagree with the project naming, naming the field', async () => {
    const { action } = await setup();
    await expect(
      action.handler(
        actionContext({
          ...fullInput,
          serving: { ...fullInput.serving, namespace: 'other' },
        }).ctx as any,
      ),
    ).rejects.toThrow(
      /serving\.namespace "other" does not match the project namespace "ml-fraud-detector"/,
    );
    await expect(
      action.handler(
        actionContext({
          ...fullInput,
          identity: { serviceAccount: 'someone-else' },
        }).ctx as any,
      ),
    ).rejects.toThrow(
      /identity\.serviceAccount "someone-else" is not the project's service account/,
    );
    await expect(
      action.handler(
        actionContext({ ...fullInput, repoUrl: 'gitlab.com?repo=x' })
          .ctx as any,
      ),
    ).rejects.toThrow(/not handled by any configured repository publisher/);
    await expect(
      action.handler(
        actionContext({
          ...fullInput,
          model: {
            signature: {
              ...signature,
              inputs: [{ name: 'x', dtype: 'complex64', shape: [1] }],
            },
          },
        }).ctx as any,
      ),
    ).rejects.toThrow(/model\.signature\.inputs\[0\]\.dtype/);
  });

  it("accepts the other steps' outputs under the JSON schema the scaffolder enforces", async () => {
    const { action } = await setup();
    const schema = action.schema!.input as any;
    const v = new Validator();
    expect(v.validate(fullInput, schema).errors).toEqual([]);
    for (const e of examples())
      expect(
        v.validate(yaml.parse(e.example).steps[0].input, schema).errors,
      ).toEqual([]);
    expect(
      v.validate({ ...fullInput, extra: 1 }, schema).errors.map(e => e.message),
    ).toEqual(['is not allowed to have the additional property "extra"']);
  });

  describe('examples', () => {
    it.each(examples().map((e, i) => [i, e.description]))(
      'example %i runs: %s',
      async i => {
        const { action, catalog } = await setup();
        const step = yaml.parse(examples()[i as number].example).steps[0];
        expect(step.action).toBe(action.id);
        const run = actionContext(step.input);
        await action.handler(run.ctx as any);
        expect(run.outputs.modelEntityRef).toBe(
          'resource:default/fraud-detector-model',
        );
        for (const ref of run.outputs.entityRefs as string[]) {
          expect(
            catalog.entities.some(
              e => `${e.kind.toLowerCase()}:default/${e.metadata.name}` === ref,
            ),
          ).toBe(true);
        }
      },
    );
  });
});
