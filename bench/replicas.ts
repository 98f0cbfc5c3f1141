/**
 * Replicas benchmark: a batch of "Create new model" tasks on one dev-backend replica versus
 * two on one PostgreSQL server (posted round-robin), and on one replica with SQLite for
 * reference. Real processes on loopback ports, a throwaway PostgreSQL from Debian's package.
 * Prints tasks per minute, p50/p95 task time (post to completion) and the duplicate side
 * effects found afterwards in git and the catalog (must be 0).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JsonObject } from '@backstage/types';
import { startPostgres } from '../test/support/postgres';
import {
  runCreateModel,
  startReplicas,
  UnclaimedTaskError,
  type Replica,
  type SharedTargets,
} from '../test/support/replicas';
import {
  catalogLocations,
  countDuplicates,
  gitopsBranches,
  projectFootprint,
  taskExecutions,
} from '../test/support/sideEffects';

const TASKS = Number(process.env.BENCH_REPLICA_TASKS ?? 8);
/** Per replica; with Backstage's default (10) the first replica to loop claims the whole batch. */
const CONCURRENCY = Number(process.env.BENCH_REPLICA_CONCURRENCY ?? 4);
const OWNER = 'group:default/ml-platform';

function percentile(sorted: number[], p: number): number {
  const i = Math.min(
    sorted.length - 1,
    Math.ceil((p / 100) * sorted.length) - 1,
  );
  return sorted[Math.max(0, i)];
}

interface Row {
  label: string;
  replicas: number;
  wallMs: number;
  perMinute: number;
  p50: number;
  p95: number;
  failed: number;
  unclaimed: number;
  ranOn: string;
}

async function runBatch(label: string, replicas: Replica[], prefix: string) {
  // one warm-up task per replica, so first-use compilation is not counted
  await Promise.all(
    replicas.map((r, i) =>
      runCreateModel(r, { name: `${prefix}-warm-${i}`, owner: OWNER }),
    ),
  );
  const names = Array.from({ length: TASKS }, (_, i) => `${prefix}-${i}`);
  const started = Date.now();
  // posted 100 ms apart, round-robin; a task no replica claims is counted, not waited for
  const outcomes = await Promise.all(
    names.map(async (name, i) => {
      await new Promise(r => setTimeout(r, i * 100));
      return runCreateModel(replicas[i % replicas.length], {
        name,
        owner: OWNER,
      }).catch(e => {
        if (e instanceof UnclaimedTaskError) return undefined;
        throw e;
      });
    }),
  );
  const wallMs = Date.now() - started;
  const results = outcomes.filter(
    (r): r is NonNullable<typeof r> => r !== undefined,
  );
  const ms = results.map(r => r.ms).sort((a, b) => a - b);
  const logs = replicas.map(r => r.logFile);
  const ranOn = replicas
    .map(
      r =>
        results.filter(t => taskExecutions([r.logFile], t.taskId) > 0).length,
    )
    .join('+');
  const row: Row = {
    label,
    replicas: replicas.length,
    wallMs,
    perMinute: (results.length / wallMs) * 60_000,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    failed: results.filter(r => r.status !== 'completed').length,
    unclaimed: outcomes.length - results.length,
    ranOn,
  };
  const done = names.filter((_, i) => outcomes[i] !== undefined);
  return {
    row,
    names: [...replicas.map((_, i) => `${prefix}-warm-${i}`), ...done],
    executions: results.map(r => taskExecutions(logs, r.taskId)),
  };
}

async function duplicates(
  replica: Replica,
  targets: SharedTargets,
  names: string[],
  executions: number[],
) {
  const footprints = names.map(n => projectFootprint(targets, n));
  const locations = await catalogLocations(replica.baseUrl, replica.token());
  return countDuplicates({
    footprints,
    locations,
    branches: gitopsBranches(targets),
    targets,
    executions,
  });
}

export async function replicasBenchmark(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-bench-replicas-'));
  const rows: Row[] = [];
  const dup: Record<string, number> = {};
  const addDup = (d: { detail: Record<string, number> }) => {
    for (const [k, v] of Object.entries(d.detail)) dup[k] = (dup[k] ?? 0) + v;
  };
  const scaffolder: JsonObject = {
    concurrentTasksLimit: CONCURRENCY,
    taskRecovery: { enabled: true },
  };
  const pg = await startPostgres();
  let live: Replica[] = [];
  let ok = false;
  try {
    // PostgreSQL: replica A alone, then A and B together on the same database and targets
    const targets = {
      reposRoot: path.join(dir, 'pg', 'repos'),
      gitopsPath: path.join(dir, 'pg', 'gitops'),
    };
    const pgOptions = (name: string) => ({
      name,
      dir: path.join(dir, 'pg', name),
      targets,
      database: { client: 'pg', connection: pg.connection },
      config: { scaffolder },
      logLevel: 'info',
    });
    live = await startReplicas([pgOptions('a')]);
    const one = await runBatch('PostgreSQL', live, 'pg1');
    rows.push(one.row);
    live.push(...(await startReplicas([pgOptions('b')])));
    const two = await runBatch('PostgreSQL', live, 'pg2');
    rows.push(two.row);
    addDup(
      await duplicates(
        live[0],
        targets,
        [...one.names, ...two.names],
        [...one.executions, ...two.executions],
      ),
    );
    await Promise.all(live.map(r => r.stop()));
    live = [];

    // SQLite, one replica, for reference
    const sqliteTargets = {
      reposRoot: path.join(dir, 'sqlite', 'repos'),
      gitopsPath: path.join(dir, 'sqlite', 'gitops'),
    };
    fs.mkdirSync(path.join(dir, 'sqlite', 'db'), { recursive: true });
    live = await startReplicas([
      {
        name: 'sqlite',
        dir: path.join(dir, 'sqlite', 'a'),
        targets: sqliteTargets,
        database: {
          client: 'better-sqlite3',
          connection: { directory: path.join(dir, 'sqlite', 'db') },
        },
        config: { scaffolder },
      },
    ]);
    const lite = await runBatch('SQLite', live, 'lite');
    rows.push(lite.row);
    addDup(
      await duplicates(live[0], sqliteTargets, lite.names, lite.executions),
    );
    ok = true;
  } finally {
    await Promise.all(live.map(r => r.stop()));
    await pg.stop();
    if (ok) fs.rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`replica logs kept in ${dir}\n`);
  }

  console.log(
    `\nReplicas: ${TASKS} "Create new model" tasks at once (after one warm-up task per replica), concurrentTasksLimit ${CONCURRENCY} per replica, ${os.cpus().length} cores`,
  );
  console.log(
    '| database | replicas | wall s | tasks/min | p50 task s | p95 task s | failed | never claimed | tasks run per replica |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${r.replicas} | ${(r.wallMs / 1000).toFixed(1)} | ${r.perMinute.toFixed(1)} | ${(r.p50 / 1000).toFixed(2)} | ${(r.p95 / 1000).toFixed(2)} | ${r.failed} | ${r.unclaimed} | ${r.ranOn} |`,
    );
  }
  const total = Object.values(dup).reduce((a, b) => a + b, 0);
  console.log(
    `\nDuplicate side effects: ${total} (repository commits ${dup.repoCommits}, GitOps commits ${dup.gitopsCommits}, catalog locations ${dup.locations}, stray GitOps branches ${dup.strayBranches}, tasks run twice ${dup.reruns})`,
  );
  if (total !== 0 || rows.some(r => r.failed || r.unclaimed))
    process.exitCode = 1;
}

export const replicasBench = {
  name: 'replicas',
  description:
    'one dev-backend replica vs two on PostgreSQL (and one on SQLite): tasks/min, p50/p95 task time, duplicate side effects',
  run: () => replicasBenchmark(),
};
