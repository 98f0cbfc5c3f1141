import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  coreServices,
  createServiceFactory,
  type AuditorService,
  type BackendFeature,
  type BackstageCredentials,
  type HttpAuthService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import knexFactory, { type Knex } from 'knex';
import type { JsonObject } from '@backstage/types';
import {
  catalogModuleAllowFileLocations,
  catalogModuleErrorLogger,
} from '../../dev/modules';

export const repoRoot = path.resolve(__dirname, '../..');

export interface RecordedAuditEvent {
  plugin: string;
  eventId: string;
  severityLevel?: string;
  status: 'initiated' | 'succeeded' | 'failed';
  meta?: JsonObject;
  error?: string;
}

/** An auditor that records every event of every plugin, and can be told to fail. */
export class RecordingAuditor {
  readonly events: RecordedAuditEvent[] = [];
  failOn?: (eventId: string) => boolean;

  forPlugin(plugin: string): AuditorService {
    return {
      createEvent: async ({ eventId, severityLevel, meta }) => {
        if (this.failOn?.(eventId))
          throw new Error(`audit sink unavailable for ${eventId}`);
        this.events.push({
          plugin,
          eventId,
          severityLevel,
          status: 'initiated',
          meta,
        });
        return {
          success: async (o?: { meta?: JsonObject }) => {
            this.events.push({
              plugin,
              eventId,
              severityLevel,
              status: 'succeeded',
              meta: { ...meta, ...o?.meta },
            });
          },
          fail: async (o: { meta?: JsonObject; error: Error }) => {
            this.events.push({
              plugin,
              eventId,
              severityLevel,
              status: 'failed',
              meta: { ...meta, ...o.meta },
              error: o.error.message,
            });
          },
        };
      },
    };
  }

  /** Events of our module (the scaffolder's own `task` events left out). */
  ours(): RecordedAuditEvent[] {
    return this.events.filter(
      e => e.plugin === 'scaffolder' && e.eventId !== 'task',
    );
  }
}

export interface TestBackendOptions {
  /** Extra app-config under `tensorflow:`. */
  tensorflow?: JsonObject;
  /** Extra config at the root. */
  config?: JsonObject;
  userRef?: string;
  features?: Array<BackendFeature | Promise<{ default: BackendFeature }>>;
  /**
   * Pass a plugin's calls made on behalf of a user as that user *with the calling plugin as actor*, as the real
   * auth service does. The permission backend needs it: it refuses resource permissions without a resourceRef
   * from users calling directly, and the mock auth drops the actor.
   */
  onBehalfOfActors?: boolean;
}

/** mockServices.httpAuth, but a plugin's on-behalf-of token yields the user with that plugin as actor. */
function actorAwareHttpAuth(defaultCredentials: BackstageCredentials) {
  return createServiceFactory({
    service: coreServices.httpAuth,
    deps: { plugin: coreServices.pluginMetadata },
    factory: ({ plugin }): HttpAuthService => {
      const auth = mockServices.auth({ pluginId: plugin.getId() });
      const SERVICE = 'mock-service-token:';
      return {
        async credentials(
          req: any,
          options?: { allow?: string[]; allowLimitedAccess?: boolean },
        ) {
          const token = /^Bearer[ ]+(\S+)$/i.exec(
            String(req.headers.authorization ?? ''),
          )?.[1];
          let credentials: BackstageCredentials = defaultCredentials;
          if (
            token?.startsWith(SERVICE) &&
            JSON.parse(token.slice(SERVICE.length)).obo
          ) {
            const { sub, obo } = JSON.parse(token.slice(SERVICE.length));
            credentials = mockCredentials.user(obo, {
              actor: { subject: sub },
            });
          } else if (token === 'mock-none-token') {
            credentials = mockCredentials.none();
          } else if (token) {
            credentials = await auth.authenticate(token, {
              allowLimitedAccess: options?.allowLimitedAccess,
            });
          }
          const type = (credentials.principal as { type: string }).type;
          if (options?.allow && !options.allow.includes(type))
            throw new NotAllowedError(
              `This endpoint does not allow '${type}' credentials`,
            );
          return credentials as any;
        },
        async issueUserCookie() {
          return { expiresAt: new Date(Date.now() + 3600_000) };
        },
      };
    },
  });
}

export interface RunningBackend {
  baseUrl: string;
  dataDir: string;
  auditor: RecordingAuditor;
  stop(): Promise<void>;
}

/**
 * Boots a real Backstage backend in-process: the real catalog (SQLite) with the sample
 * organisation and our templates, the real scaffolder, and this module.
 */
export async function startBackend(
  options: TestBackendOptions = {},
): Promise<RunningBackend> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-backend-'));
  // One in-memory SQLite database per plugin, destroyed on stop (the default factory
  // leaves connection pools that keep jest alive).
  const clients: Knex[] = [];
  const perPluginSqlite = createServiceFactory({
    service: coreServices.database,
    deps: {},
    async factory() {
      const client = knexFactory({
        client: 'better-sqlite3',
        connection: { filename: ':memory:' },
        useNullAsDefault: true,
      });
      clients.push(client);
      return { getClient: async () => client };
    },
  });
  const auditor = new RecordingAuditor();
  const recordingAuditor = createServiceFactory({
    service: coreServices.auditor,
    deps: { plugin: coreServices.pluginMetadata },
    factory: ({ plugin }) => auditor.forPlugin(plugin.getId()),
  });
  const backend = await startTestBackend({
    features: [
      import('@backstage/plugin-catalog-backend'),
      import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
      import('@backstage/plugin-scaffolder-backend'),
      catalogModuleAllowFileLocations,
      catalogModuleErrorLogger,
      import('../../actions'),
      perPluginSqlite,
      recordingAuditor,
      mockServices.rootLogger.factory({ level: 'warn' }),
      options.onBehalfOfActors
        ? actorAwareHttpAuth(
            mockCredentials.user(options.userRef ?? 'user:default/jdoe'),
          )
        : mockServices.httpAuth.factory({
            defaultCredentials: mockCredentials.user(
              options.userRef ?? 'user:default/jdoe',
            ),
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
                target: path.join(repoRoot, 'dev/catalog/all.yaml'),
              },
            ],
          },
          tensorflow: {
            namespacePrefix: 'ml-',
            repositories: { localRoot: path.join(dataDir, 'repos') },
            gitops: {
              target: 'local',
              local: { path: path.join(dataDir, 'gitops') },
            },
            ...options.tensorflow,
          },
          ...options.config,
        },
      }),
      ...(options.features ?? []),
    ],
  });
  const baseUrl = `http://localhost:${backend.server.port()}`;
  return {
    baseUrl,
    dataDir,
    auditor,
    async stop() {
      // the task broker polls events for ~1 s after the last task; stopping sooner
      // makes it hit a closed database
      await new Promise(r => setTimeout(r, 1500));
      await backend.stop();
      await Promise.all(clients.map(c => c.destroy()));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function api<T = any>(
  baseUrl: string,
  route: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const { json, ...rest } = init;
  const response = await fetch(`${baseUrl}${route}`, {
    ...rest,
    headers: { 'content-type': 'application/json', ...rest.headers },
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    await new Promise(r => setTimeout(r, 250));
  }
}

/** Waits for the template and the sample organisation to be in the catalog. */
export async function waitForCatalog(baseUrl: string): Promise<void> {
  await waitFor(
    'the create-model template and group ml-platform in the catalog',
    async () => {
      const t = await api(
        baseUrl,
        '/api/catalog/entities/by-name/template/default/create-model',
      );
      const g = await api(
        baseUrl,
        '/api/catalog/entities/by-name/group/default/ml-platform',
      );
      const u = await api(
        baseUrl,
        '/api/catalog/entities/by-name/user/default/jdoe',
      );
      return t.status === 200 && g.status === 200 && u.status === 200
        ? true
        : undefined;
    },
    30000,
  );
}

export async function runTask(
  baseUrl: string,
  templateRef: string,
  values: JsonObject,
): Promise<{
  id: string;
  status: string;
  output: any;
  error?: any;
  events: any[];
}> {
  const created = await api(baseUrl, '/api/scaffolder/v2/tasks', {
    method: 'POST',
    json: { templateRef, values },
  });
  if (created.status !== 201)
    throw new Error(
      `task not created: ${created.status} ${JSON.stringify(created.body)}`,
    );
  return waitForTask(baseUrl, created.body.id);
}

export async function waitForTask(
  baseUrl: string,
  id: string,
  timeoutMs = 60000,
) {
  const task = await waitFor(
    `task ${id} to finish`,
    async () => {
      const t = await api(baseUrl, `/api/scaffolder/v2/tasks/${id}`);
      return ['completed', 'failed', 'cancelled'].includes(t.body.status)
        ? t.body
        : undefined;
    },
    timeoutMs,
  );
  const events = (await api(baseUrl, `/api/scaffolder/v2/tasks/${id}/events`))
    .body as any[];
  const completion = events.find(e => e.type === 'completion');
  return {
    id,
    status: task.status,
    output: completion?.body?.output,
    error: completion?.body?.error,
    events,
  };
}
