/**
 * Two dev-backend replicas (real processes) on one real PostgreSQL server, sharing the local
 * git targets, with the scaffolder's task recovery on: the production shape of the wizard.
 *
 * 1. A batch of "Create new model" tasks posted round-robin to both replicas: every task
 *    runs exactly once, and leaves exactly one set of commits, branches and entities.
 * 2. Same-name pairs, one task of each posted to each replica at once: the project claim
 *    (a ref created with compare-and-swap in the shared GitOps repository) lets exactly one
 *    win, and the loser leaves nothing behind.
 * 3. The replica running a task is killed (SIGKILL, with its git children) in the middle of
 *    the serving step, right after the step's GitOps commit and before the step completes;
 *    the other replica recovers the task from its checkpoints to the same end state as an
 *    uninterrupted run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PostgresServer } from '../support/postgres';
import {
  createModelValues,
  runCreateModel,
  startReplicas,
  until,
  type Replica,
  type SharedTargets,
} from '../support/replicas';
import {
  catalogLocations,
  countDuplicates,
  gitopsBranches,
  normalise,
  projectFootprint,
  projectLocations,
  succeededSideEffects,
  taskExecutions,
} from '../support/sideEffects';

jest.setTimeout(600_000);

const OWNER = 'group:default/ml-platform';
/** A recovered task waits for its heartbeat to be this old; the recovery loop runs every 10 s. */
const STALE_SECONDS = 10;

describe('two replicas on PostgreSQL', () => {
  let dir: string;
  let pg: PostgresServer;
  let replicas: Replica[] = [];
  let targets: SharedTargets;
  const logs = () => replicas.map(r => r.logFile);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-replicas-'));
    targets = {
      reposRoot: path.join(dir, 'repos'),
      gitopsPath: path.join(dir, 'gitops'),
    };
    pg = await startPostgres();
    const common = {
      targets,
      database: { client: 'pg', connection: pg.connection },
      config: {
        scaffolder: {
          taskRecovery: {
            enabled: true,
            staleTimeout: { seconds: STALE_SECONDS },
          },
          // A replica claims open tasks until it reaches this limit (default 10), and another
          // replica claims only after a task is posted to it: a low limit spreads the batch.
          concurrentTasksLimit: 2,
        },
      },
    };
    replicas = await startReplicas([
      { ...common, name: 'replica-a', dir: path.join(dir, 'a') },
      { ...common, name: 'replica-b', dir: path.join(dir, 'b') },
    ]);
  }, 400_000);

  afterAll(async () => {
    await Promise.all(replicas.map(r => r.stop()));
    await pg?.stop();
    if (process.env.KEEP_REPLICA_DATA)
      process.stdout.write(`replica data kept in ${dir}\n`);
    else if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const batch = [
    'rr-alpha',
    'rr-bravo',
    'rr-charlie',
    'rr-delta',
    'rr-echo',
    'rr-foxtrot',
  ];
  let reference: { name: string; entityRefs: string[] } | undefined;

  it('runs every task of a round-robin batch exactly once, with no duplicate commits, branches or entities', async () => {
    // posted 200 ms apart: see UNCLAIMED_LIMIT_MS for what a burst can do to 4.2.0's claim loop
    const results = await Promise.all(
      batch.map(async (name, i) => {
        await new Promise(r => setTimeout(r, i * 200));
        return runCreateModel(replicas[i % replicas.length], {
          name,
          owner: OWNER,
        });
      }),
    );
    for (const [i, r] of results.entries()) {
      expect({ name: batch[i], status: r.status, failure: r.failure }).toEqual({
        name: batch[i],
        status: 'completed',
        failure: undefined,
      });
    }

    // exactly once: one start of each task across both replicas' logs, and both replicas worked
    const executions = results.map(r => taskExecutions(logs(), r.taskId));
    expect(executions).toEqual(batch.map(() => 1));
    const perReplica = replicas.map(
      r =>
        results.filter(t => taskExecutions([r.logFile], t.taskId) === 1).length,
    );
    expect(perReplica.every(n => n > 0)).toBe(true);

    const token = replicas[0].token();
    const locations = await catalogLocations(replicas[0].baseUrl, token);
    const footprints = batch.map(name => projectFootprint(targets, name));
    for (const f of footprints) {
      expect(normalise(f.repoCommits, f.name)).toEqual([
        'Create <name> from the model wizard',
        'Register <name> in the catalog',
      ]);
      expect(f.repoAuthors).toEqual(['Jane Doe', 'Jane Doe']);
      expect(normalise(f.gitopsCommits, f.name)).toEqual([
        'Identity for <name>: service account, RBAC, workload identity',
        'Model project <name>: serving endpoint (development)',
      ]);
      expect(projectLocations(locations, targets, f.name)).toHaveLength(1);
    }
    expect(gitopsBranches(targets).sort()).toEqual(
      batch.map(n => `model/${n}`).sort(),
    );
    expect(
      countDuplicates({
        footprints,
        locations,
        branches: gitopsBranches(targets),
        targets,
        executions,
      }),
    ).toEqual({
      total: 0,
      detail: {
        repoCommits: 0,
        gitopsCommits: 0,
        locations: 0,
        strayBranches: 0,
        reruns: 0,
      },
    });

    // every entity each task reports is in the shared catalog, once, owned by the group
    for (const r of results) {
      const refs = (r.output.links ?? [])
        .map(l => l.entityRef)
        .filter((x): x is string => !!x);
      expect(refs).toHaveLength(4);
      for (const ref of refs) {
        const [kind, rest] = ref.split(':');
        const [namespace, name] = rest.split('/');
        const res = await fetch(
          `${replicas[1].baseUrl}/api/catalog/entities/by-name/${kind}/${namespace}/${name}`,
          {
            headers: { authorization: `Bearer ${replicas[1].token()}` },
          },
        );
        expect(res.status).toBe(200);
        expect(((await res.json()) as any).spec.owner).toBe(OWNER);
      }
    }
    reference = {
      name: batch[0],
      entityRefs: (results[0].output.links ?? [])
        .map(l => l.entityRef)
        .filter((x): x is string => !!x),
    };
  });

  // two pairs for different owners (Jane is a member of both), one for the same owner
  const pairs: Array<{ name: string; owners: [string, string] }> = [
    {
      name: 'pair-one',
      owners: ['group:default/ml-platform', 'group:default/risk'],
    },
    {
      name: 'pair-two',
      owners: ['group:default/risk', 'group:default/ml-platform'],
    },
    {
      name: 'pair-three',
      owners: ['group:default/ml-platform', 'group:default/ml-platform'],
    },
  ];

  it('decides each same-name pair across replicas: exactly one task wins, the loser leaves nothing behind', async () => {
    // each pair: one task posted to each replica at the same moment
    const results = await Promise.all(
      pairs.flatMap(({ name, owners }) =>
        owners.map((owner, i) =>
          runCreateModel(replicas[i], { name, owner }).then(r => ({
            ...r,
            name,
            owner,
          })),
        ),
      ),
    );
    const locations = await catalogLocations(
      replicas[0].baseUrl,
      replicas[0].token(),
    );
    for (const { name } of pairs) {
      const pair = results.filter(r => r.name === name);
      const winners = pair.filter(r => r.status === 'completed');
      expect({ name, completed: winners.length }).toEqual({
        name,
        completed: 1,
      });
      const [winner] = winners;
      const loser = pair.find(r => r !== winner)!;
      expect(loser.status).toBe('failed');
      expect(loser.failure?.message).toMatch(/claim/i);
      // the loser audited no side effect, on either replica
      expect(succeededSideEffects(logs(), loser.taskId)).toEqual([]);
      // one task's worth of commits, branch, location and entities, all the winner's
      const f = projectFootprint(targets, name);
      expect(normalise(f.repoCommits, name)).toEqual([
        'Create <name> from the model wizard',
        'Register <name> in the catalog',
      ]);
      expect(normalise(f.gitopsCommits, name)).toEqual([
        'Identity for <name>: service account, RBAC, workload identity',
        'Model project <name>: serving endpoint (development)',
      ]);
      expect(projectLocations(locations, targets, name)).toHaveLength(1);
      for (const ref of (winner.output.links ?? [])
        .map(l => l.entityRef)
        .filter((x): x is string => !!x)) {
        const [kind, rest] = ref.split(':');
        const res = await fetch(
          `${replicas[0].baseUrl}/api/catalog/entities/by-name/${kind}/${rest}`,
          {
            headers: { authorization: `Bearer ${replicas[0].token()}` },
          },
        );
        expect(((await res.json()) as any).spec.owner).toBe(winner.owner);
      }
      // one claim, the winner's, in the shared GitOps repository
      const claim = execFileSync(
        'git',
        ['log', '-1', '--format=%B', `refs/tensorflow/claims/${name}`],
        { cwd: targets.gitopsPath, encoding: 'utf8' },
      );
      expect(claim).toContain(`"taskId":"${winner.taskId}"`);
      const catalogInfo = execFileSync(
        'git',
        ['show', 'HEAD:catalog-info.yaml'],
        { cwd: path.join(targets.reposRoot, name), encoding: 'utf8' },
      );
      expect(catalogInfo).toContain(winner.owner);
      // the loser's owner appears only when it is the winner's too
      expect(catalogInfo.includes(loser.owner)).toBe(
        loser.owner === winner.owner,
      );
    }
    const names = pairs.map(p => p.name);
    expect(
      gitopsBranches(targets)
        .filter(b => names.includes(b.replace(/^model\//, '')))
        .sort(),
    ).toEqual(names.map(n => `model/${n}`).sort());
  });

  it('finishes a task on the other replica when the one running it is killed during the serving step', async () => {
    expect(reference).toBeDefined();
    const name = 'killed-midway';
    // A reference-transaction hook in the shared GitOps repository parks the serving step's
    // commit after it landed (state "committed"), so the kill hits a known point: the
    // commit exists, the GitOps lock is held, the step is not complete.
    const reached = path.join(dir, 'hook-reached');
    const hook = path.join(
      targets.gitopsPath,
      '.git',
      'hooks',
      'reference-transaction',
    );
    fs.writeFileSync(
      hook,
      `#!/bin/sh
[ "$1" = committed ] || exit 0
while read old new ref; do
  [ "$ref" = "refs/heads/model/${name}" ] || continue
  case "$(git log -1 --format=%s "$new")" in
    *"serving endpoint"*)
      [ -e "${reached}" ] && exit 0
      echo $$ > "${reached}.tmp" && mv "${reached}.tmp" "${reached}"
      while :; do sleep 1; done ;;
  esac
done
exit 0
`,
      { mode: 0o755 },
    );

    const client = replicas[0].client();
    const taskId = await client.createTask(
      'template:default/create-model',
      createModelValues({ name, owner: OWNER }),
    );
    await until(
      'the serving step to reach its GitOps commit',
      async () => (fs.existsSync(reached) ? true : undefined),
      300_000,
    );
    const hookPid = Number(fs.readFileSync(reached, 'utf8').trim());
    const victim = replicas.find(r => r.pgid() === processGroup(hookPid));
    expect(victim).toBeDefined();
    const survivor = replicas.find(r => r !== victim)!;
    await victim!.kill();
    expect(victim!.exited()).toBe(true);

    // the survivor recovers the task once its heartbeat is stale and completes it
    const events = await until(
      `task ${taskId} to complete on ${survivor.name}`,
      async () => {
        const res = await fetch(
          `${survivor.baseUrl}/api/scaffolder/v2/tasks/${taskId}/events`,
          {
            headers: { authorization: `Bearer ${survivor.token()}` },
          },
        );
        const list = (await res.json()) as any[];
        const done = list.find(e => e.type === 'completion');
        return done ? list : undefined;
      },
      180_000,
      1000,
    );
    const task = await survivor.client().getTask(taskId);
    const failure = events.find(e => e.body?.status === 'failed')?.body
      ?.message;
    expect({ status: task.status, failure }).toEqual({
      status: 'completed',
      failure: undefined,
    });
    const messages = events.map(e => String(e.body?.message ?? ''));
    expect(
      messages.some(m =>
        /^Task recovered - resuming from last known good state\. \d+ step\(s\) already completed\.$/.test(
          m,
        ),
      ),
    ).toBe(true);
    for (const step of ['create', 'validate', 'publish', 'identity']) {
      expect(messages).toContain(
        `Skipping step ${step} because it was already completed in a previous run`,
      );
    }
    // started once on each replica: the kill ended the first run, recovery started the second
    expect(taskExecutions([victim!.logFile], taskId)).toBe(1);
    expect(taskExecutions([survivor.logFile], taskId)).toBe(1);

    // same end state as the uninterrupted reference run: commits, files, entities, locations
    const { name: refName, entityRefs } = reference!;
    const killed = projectFootprint(targets, name);
    const uninterrupted = projectFootprint(targets, refName);
    expect(normalise(killed, name)).toEqual(normalise(uninterrupted, refName));
    const locations = await catalogLocations(
      survivor.baseUrl,
      survivor.token(),
    );
    expect(projectLocations(locations, targets, name)).toHaveLength(1);
    const output = (events.find(e => e.type === 'completion')?.body?.output ??
      {}) as { links?: Array<{ entityRef?: string }> };
    const refs = (output.links ?? [])
      .map(l => l.entityRef)
      .filter((x): x is string => !!x);
    expect(normalise(refs, name)).toEqual(normalise(entityRefs, refName));
    for (const ref of refs) {
      const [kind, rest] = ref.split(':');
      const res = await fetch(
        `${survivor.baseUrl}/api/catalog/entities/by-name/${kind}/${rest}`,
        {
          headers: { authorization: `Bearer ${survivor.token()}` },
        },
      );
      expect(res.status).toBe(200);
    }
    expect(gitopsBranches(targets)).toContain(`model/${name}`);
  });
});

function processGroup(pid: number): number {
  // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after ")"
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}
