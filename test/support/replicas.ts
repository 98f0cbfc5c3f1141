/**
 * Dev-backend replicas as real processes (`tsx dev/index.ts` with config overrides), for the
 * replica tests and `npm run bench -- replicas`. Each replica listens on its own loopback
 * port and keeps its own scaffolder working directory; replicas share what production
 * replicas share: the database and the git targets (model repositories, GitOps repository).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import type { JsonObject } from '@backstage/types';
import {
  ScaffolderClient,
  guestToken,
  type TaskResult,
} from '../../cli/scaffolderClient';
import { freePort } from './postgres';

export const repoRoot = path.resolve(__dirname, '../..');

export interface SharedTargets {
  /** tensorflow.repositories.localRoot */
  reposRoot: string;
  /** tensorflow.gitops.local.path */
  gitopsPath: string;
}

export interface ReplicaOptions {
  name: string;
  /** Private folder of this replica: config override, log, scaffolder working directory. */
  dir: string;
  targets: SharedTargets;
  /** `backend.database` */
  database: JsonObject;
  /** Merged over the override (e.g. `scaffolder.taskRecovery`). */
  config?: JsonObject;
  logLevel?: string;
}

export interface Replica {
  name: string;
  baseUrl: string;
  logFile: string;
  client(): ScaffolderClient;
  token(): string;
  /** SIGKILL the whole process group: node and any git or hook it was running. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  exited(): boolean;
  /** Process group of the replica (its node process leads it). */
  pgid(): number;
}

function merge(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? merge(prev as JsonObject, v as JsonObject)
        : v;
  }
  return out;
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      if ((error as { fatal?: boolean }).fatal) throw error;
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    await new Promise(r => setTimeout(r, everyMs));
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(true);
  return new Promise(resolve => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts replicas one after another up to guest sign-in (all plugins initialised), then
 * waits for each to see the catalog. One at a time because two backends that first boot
 * on an empty database at once race for knex's migration lock and the loser exits
 * ("Migration table is already locked"); in a real deployment its orchestrator restarts it.
 */
export async function startReplicas(
  list: ReplicaOptions[],
): Promise<Replica[]> {
  const started: Array<Replica & { ready(): Promise<Replica> }> = [];
  try {
    for (const options of list) started.push(await launchReplica(options));
    return await Promise.all(started.map(r => r.ready()));
  } catch (error) {
    await Promise.all(started.map(r => r.kill()));
    throw error;
  }
}

export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  return (await launchReplica(options)).ready();
}

async function launchReplica(
  options: ReplicaOptions,
): Promise<Replica & { ready(): Promise<Replica> }> {
  fs.mkdirSync(options.dir, { recursive: true });
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const override = path.join(options.dir, 'app-config.replica.yaml');
  const logFile = path.join(options.dir, 'backend.log');
  const config = merge(
    {
      backend: {
        baseUrl,
        listen: { port, host: '127.0.0.1' },
        database: options.database,
        workingDirectory: path.join(options.dir, 'work'),
      },
      tensorflow: {
        repositories: { localRoot: options.targets.reposRoot },
        gitops: {
          target: 'local',
          local: { path: options.targets.gitopsPath },
        },
      },
    },
    options.config ?? {},
  );
  fs.mkdirSync(path.join(options.dir, 'work'), { recursive: true });
  fs.writeFileSync(override, yaml.stringify(config));
  const log = fs.openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      require.resolve('tsx/cli'),
      'dev/index.ts',
      '--config',
      'dev/app-config.yaml',
      '--config',
      override,
    ],
    {
      cwd: repoRoot,
      detached: true, // own process group, so kill() takes git children and hooks with it
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        LOG_LEVEL: options.logLevel ?? 'info',
        NODE_ENV: 'development',
        FORCE_COLOR: '0',
      },
    },
  );
  fs.closeSync(log);
  // a test runner that dies without stop() must not leave a detached backend behind
  const onExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  const tail = () => fs.readFileSync(logFile, 'utf8').slice(-3000);
  let token = '';
  const replica: Replica = {
    name: options.name,
    baseUrl,
    logFile,
    token: () => token,
    client: () => new ScaffolderClient(baseUrl, token),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    pgid: () => child.pid!,
    async kill() {
      killGroup(child, 'SIGKILL');
      await waitForExit(child, 10_000);
    },
    async stop() {
      if (replica.exited()) return;
      killGroup(child, 'SIGTERM');
      if (!(await waitForExit(child, 10_000))) {
        killGroup(child, 'SIGKILL');
        await waitForExit(child, 5_000);
      }
    },
  };
  try {
    await until(
      `${options.name} to sign in a guest`,
      async () => {
        if (replica.exited())
          throw Object.assign(
            new Error(`exited with ${child.exitCode ?? child.signalCode}`),
            { fatal: true },
          );
        return guestToken(baseUrl);
      },
      180_000,
    );
  } catch (error) {
    await replica.kill();
    throw new Error(
      `${(error as Error).message}\n--- ${logFile} ---\n${tail()}`,
    );
  }
  const ready = async () => {
    try {
      // The guest's token carries group membership only once the User is in the catalog.
      await until(
        `${options.name}: the template and user:default/jdoe in the catalog`,
        async () => {
          const t = await guestToken(baseUrl);
          const headers = { authorization: `Bearer ${t}` };
          const template = await fetch(
            `${baseUrl}/api/catalog/entities/by-name/template/default/create-model`,
            { headers },
          );
          const user = await fetch(
            `${baseUrl}/api/catalog/entities/by-name/user/default/jdoe`,
            { headers },
          );
          if (!template.ok || !user.ok) return undefined;
          const relations = ((await user.json()) as any).relations ?? [];
          return relations.some((r: any) => r.type === 'memberOf')
            ? true
            : undefined;
        },
        120_000,
      );
      token = (await guestToken(baseUrl))!;
      return replica;
    } catch (error) {
      await replica.kill();
      throw new Error(
        `${(error as Error).message}\n--- ${logFile} ---\n${tail()}`,
      );
    }
  };
  return { ...replica, ready };
}

export interface CreateModelValues {
  name: string;
  owner: string;
  [key: string]: unknown;
}

export function createModelValues(
  values: CreateModelValues,
): Record<string, unknown> {
  return {
    description: 'A replica test model',
    lifecycle: 'experimental',
    system: '',
    ...values,
  };
}

/** How long a posted task may stay `open` while no task runs anywhere before we call it lost. */
export const UNCLAIMED_LIMIT_MS = 20_000;

export class UnclaimedTaskError extends Error {}

async function processingTasks(replica: Replica): Promise<number | undefined> {
  const r = await fetch(
    `${replica.baseUrl}/api/scaffolder/v2/tasks?status=processing&limit=1`,
    {
      headers: { authorization: `Bearer ${replica.token()}` },
    },
  ).catch(() => undefined);
  return r?.ok
    ? ((await r.json()) as { totalTasks?: number }).totalTasks
    : undefined;
}

/**
 * Posts a "Create new model" task and follows it to its end. Fails instead of waiting for
 * ever when no replica claims the task: scaffolder-backend 4.2.0 wakes a replica's claim
 * loop only when a task is posted to (or recovered on) that replica, or when one of its
 * tasks ends; a post that lands while the loop is reading the queue can be missed, and with
 * no task running anywhere nothing wakes any loop again. A task queued behind busy
 * replicas (open while others are processing) is waited for.
 */
export async function runCreateModel(
  replica: Replica,
  values: CreateModelValues,
): Promise<TaskResult & { ms: number }> {
  const started = Date.now();
  const client = replica.client();
  const taskId = await client.createTask(
    'template:default/create-model',
    createModelValues(values),
  );
  const abort = new AbortController();
  const watchdog = (async () => {
    let idleSince: number | undefined;
    while (!abort.signal.aborted) {
      await new Promise(r => setTimeout(r, 2000));
      if (abort.signal.aborted) return;
      const task = await client.getTask(taskId).catch(() => undefined);
      const busy =
        task?.status === 'open' ? await processingTasks(replica) : undefined;
      if (task?.status !== 'open' || busy !== 0) {
        idleSince = undefined;
        continue;
      }
      idleSince ??= Date.now();
      if (Date.now() - idleSince > UNCLAIMED_LIMIT_MS) {
        throw new UnclaimedTaskError(
          `task ${taskId} (${values.name}) posted to ${replica.name} was never claimed: open for ${UNCLAIMED_LIMIT_MS / 1000} s with no task running on any replica`,
        );
      }
    }
  })();
  try {
    const result = await Promise.race([
      client.follow(taskId, () => undefined, abort.signal),
      watchdog.then(() => new Promise<never>(() => undefined)),
    ]);
    return { ...result, ms: Date.now() - started };
  } finally {
    abort.abort();
  }
}
