/**
 * Load benchmark: many "Create new model" tasks at once on one dev backend (a child
 * process on a loopback port, its own data folder), at two concurrency levels.
 * Reports tasks per minute, p50/p95 task time, the backend's peak memory, and file
 * handles it still holds after the tasks end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'yaml';

const root = path.resolve(__dirname, '..');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(
    sorted.length - 1,
    Math.ceil((p / 100) * sorted.length) - 1,
  );
  return sorted[Math.max(0, i)];
}

function procStatus(pid: number, field: string): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find(l => l.startsWith(`${field}:`));
  return line ? Number(line.split(/\s+/)[1]) : NaN; // kB
}

function openFiles(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** The node process under `npm`/`tsx` wrappers: the deepest descendant. */
function backendPid(child: ChildProcess): number {
  let pid = child.pid!;
  for (;;) {
    const childrenFile = `/proc/${pid}/task/${pid}/children`;
    const kids = fs.existsSync(childrenFile)
      ? fs
          .readFileSync(childrenFile, 'utf8')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
      : [];
    if (kids.length === 0) return pid;
    pid = Number(kids[kids.length - 1]);
  }
}

async function json(
  url: string,
  token: string,
  init: RequestInit = {},
): Promise<any> {
  const r = await fetch(url, {
    ...init,
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...init.headers,
    },
  });
  const text = await r.text();
  if (!r.ok)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

async function startBackend(port: number) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-load-'));
  const override = path.join(dataDir, 'app-config.bench.yaml');
  fs.writeFileSync(
    override,
    yaml.stringify({
      backend: {
        baseUrl: `http://localhost:${port}`,
        listen: { port },
        database: {
          client: 'better-sqlite3',
          connection: { directory: path.join(dataDir, 'sqlite') },
        },
      },
      tensorflow: {
        repositories: { localRoot: path.join(dataDir, 'repos') },
        gitops: {
          target: 'local',
          local: { path: path.join(dataDir, 'gitops') },
        },
      },
    }),
  );
  fs.mkdirSync(path.join(dataDir, 'sqlite'));
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
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    },
  );
  let stderr = '';
  child.stderr!.on('data', d => (stderr = (stderr + d).slice(-4000)));
  const base = `http://localhost:${port}`;
  const token = await until(
    'guest sign-in',
    async () =>
      ((await (await fetch(`${base}/api/auth/guest/refresh`)).json()) as any)
        .backstageIdentity?.token as string | undefined,
    90_000,
  ).catch(e => {
    child.kill();
    throw new Error(`${e.message}\n${stderr}`);
  });
  await until(
    'the template in the catalog',
    async () => {
      const r = await fetch(
        `${base}/api/catalog/entities/by-name/template/default/create-model`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      return r.ok ? true : undefined;
    },
    60_000,
  );
  return { child, base, token, dataDir };
}

async function runBatch(
  base: string,
  token: string,
  concurrency: number,
  label: string,
) {
  const started = Date.now();
  const durations = await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      const t0 = Date.now();
      const { id } = await json(`${base}/api/scaffolder/v2/tasks`, token, {
        method: 'POST',
        body: JSON.stringify({
          templateRef: 'template:default/create-model',
          values: {
            name: `load-${label}-${i}`,
            description: 'load test',
            owner: 'group:default/ml-platform',
            system: '',
            lifecycle: 'experimental',
          },
        }),
      });
      const task = await until(
        `task ${id}`,
        async () => {
          const t = await json(`${base}/api/scaffolder/v2/tasks/${id}`, token);
          return ['completed', 'failed', 'cancelled'].includes(t.status)
            ? t
            : undefined;
        },
        600_000,
      );
      if (task.status !== 'completed')
        throw new Error(`task ${id} ${task.status}`);
      return Date.now() - t0;
    }),
  );
  const wall = Date.now() - started;
  durations.sort((a, b) => a - b);
  return {
    concurrency,
    wallMs: wall,
    perMinute: (concurrency / wall) * 60_000,
    p50: percentile(durations, 50),
    p95: percentile(durations, 95),
  };
}

export async function loadBenchmark(levels = [4, 8]): Promise<void> {
  const port = 17000 + Math.floor(Math.random() * 1000);
  const { child, base, token, dataDir } = await startBackend(port);
  try {
    const pid = backendPid(child);
    // one warm-up task so compilation and first-use costs are not counted
    await runBatch(base, token, 1, 'warmup');
    await new Promise(r => setTimeout(r, 1500));
    const fdsBefore = openFiles(pid);
    const rows = [];
    for (const level of levels) {
      const row = await runBatch(base, token, level, `c${level}`);
      await new Promise(r => setTimeout(r, 2000));
      rows.push({
        ...row,
        peakRssMb: procStatus(pid, 'VmHWM') / 1024,
        fdsLeft: openFiles(pid) - fdsBefore,
      });
    }
    console.log(
      '\nLoad: "Create new model" tasks on one dev backend (loopback)',
    );
    console.log(
      '| concurrency | wall s | tasks/min | p50 task s | p95 task s | peak RSS MB | fds left |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      console.log(
        `| ${r.concurrency} | ${(r.wallMs / 1000).toFixed(1)} | ${r.perMinute.toFixed(1)} | ${(r.p50 / 1000).toFixed(2)} | ${(r.p95 / 1000).toFixed(2)} | ${r.peakRssMb.toFixed(0)} | ${r.fdsLeft} |`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise(r => setTimeout(r, 500));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export const createModelLoadBenchmark = {
  name: 'load',
  description:
    'many "Create new model" tasks at once on one dev backend: tasks/min, p50/p95 task time, peak memory, file handles left; then twice the concurrency',
  run: () => loadBenchmark(),
};
