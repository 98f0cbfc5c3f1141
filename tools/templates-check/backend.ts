import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendFeature } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import type { JsonObject } from '@backstage/types';
import { parseAllDocuments } from 'yaml';
import {
  initialProvisioningRecord,
  PROVISIONING_RECORD_FILE,
} from '../../actions/access/binding';
import { catalogModuleAllowFileLocations } from '../../dev/modules';

const repoRoot = path.resolve(__dirname, '../..');

/**
 * An in-process backend for the CLI: the real catalog (with the sample organisation), the real
 * scaffolder with its built-in actions, and this module, on SQLite in memory and a random port.
 * (Tests use test/support/backend.ts instead, which also handles jest teardown.)
 */
export async function startCheckBackend(
  tensorflow: JsonObject = {},
  sampleCatalogs: string[] = [],
  extraFeatures: Array<
    BackendFeature | Promise<{ default: BackendFeature }>
  > = [],
): Promise<{ baseUrl: string; stop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'templates-check-'));
  const backend = await startTestBackend({
    features: [
      import('@backstage/plugin-catalog-backend'),
      import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
      import('@backstage/plugin-scaffolder-backend'),
      catalogModuleAllowFileLocations,
      import('../../actions'),
      mockServices.rootLogger.factory({ level: 'error' }),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.user('user:default/jdoe'),
      }),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
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
                ],
              },
            ],
            locations: [
              {
                type: 'file',
                target: path.join(repoRoot, 'dev/catalog/org.yaml'),
              },
              ...stageSampleCatalogs(
                sampleCatalogs,
                path.join(dataDir, 'repos'),
              ).map(target => ({ type: 'file', target })),
            ],
          },
          tensorflow: {
            namespacePrefix: 'ml-',
            repositories: { localRoot: path.join(dataDir, 'repos') },
            gitops: {
              target: 'local',
              local: { path: path.join(dataDir, 'gitops') },
            },
            ...tensorflow,
          },
        },
      }),
      ...extraFeatures,
    ],
  });
  const baseUrl = `http://localhost:${backend.server.port()}`;
  await waitForEntities(baseUrl, [
    'user/default/jdoe',
    'group/default/ml-platform',
    ...sampleEntityRefs(sampleCatalogs),
  ]);
  return {
    baseUrl,
    async stop() {
      await backend.stop().catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A sample model made by the wizard lives in its repository's catalog-info.yaml, and
 * tensorflow:catalog:register refuses to take an entity over from another location. So a
 * sample file whose entities name a local repository (`tensorflow.ml-platform.io/repo-url:
 * local?repo=<name>`) is copied there and registered from there, as the wizard would have.
 */
export function stageSampleCatalogs(
  files: string[],
  reposDir: string,
): string[] {
  return files.map(file => {
    const entities = parseAllDocuments(fs.readFileSync(file, 'utf8')).map(d =>
      d.toJS(),
    );
    const model = entities.find(
      e =>
        typeof e?.metadata?.annotations?.[
          'tensorflow.ml-platform.io/repo-url'
        ] === 'string',
    );
    const repoUrl: string | undefined =
      model?.metadata.annotations['tensorflow.ml-platform.io/repo-url'];
    const repo = repoUrl?.startsWith('local?')
      ? new URLSearchParams(repoUrl.split('?', 2)[1]).get('repo')
      : null;
    if (!repoUrl || !repo || !/^[a-z0-9-]+$/.test(repo)) return file;
    const target = path.join(reposDir, repo, 'catalog-info.yaml');
    fs.mkdirSync(path.join(reposDir, repo, '.backstage'), { recursive: true });
    fs.copyFileSync(file, target);
    // The record that binds the repository to its project, as tensorflow:repository:publish writes it.
    const name =
      model.metadata.annotations['tensorflow.ml-platform.io/model-name'] ??
      repo;
    fs.writeFileSync(
      path.join(reposDir, repo, PROVISIONING_RECORD_FILE),
      initialProvisioningRecord({
        project: { name, owner: String(model.spec?.owner), namespace: '' },
        initiator: 'user:default/sample',
        taskId: 'sample',
        repoUrl,
      }),
    );
    return target;
  });
}

/** Entity refs (kind/namespace/name) declared in the sample catalog files. */
export function sampleEntityRefs(files: string[]): string[] {
  const refs: string[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
      const e = doc.toJS();
      if (e?.kind && e?.metadata?.name)
        refs.push(
          `${String(e.kind).toLowerCase()}/${e.metadata.namespace ?? 'default'}/${e.metadata.name}`,
        );
    }
  }
  return refs;
}

/** Dry runs check owners and entities against the catalog: wait until the organisation and samples are in. */
export async function waitForEntities(
  baseUrl: string,
  refs: string[],
  timeoutMs = 30000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(
      refs.map(ref =>
        fetch(`${baseUrl}/api/catalog/entities/by-name/${ref}`).then(
          r => r.status,
          () => 0,
        ),
      ),
    );
    if (statuses.every(s => s === 200)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the catalog did not load ${refs.filter((_, i) => statuses[i] !== 200).join(', ')} in time`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}
