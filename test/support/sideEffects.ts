/**
 * What "Create new model" tasks left behind on the shared targets, read back from git and
 * the catalog, and the duplicates among it: the evidence for "every task ran exactly once".
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { SharedTargets } from './replicas';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
  }).trim();
const lines = (s: string) => s.split('\n').filter(Boolean);

// eslint-disable-next-line no-control-regex -- strips the colour codes of the backend's log on purpose
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

export interface ProjectFootprint {
  name: string;
  /** Subjects of the model repository's commits, oldest first ([] if no repository). */
  repoCommits: string[];
  repoFiles: string[];
  /** Subjects of the GitOps branch's own commits (not on main), oldest first. */
  gitopsCommits: string[];
  gitopsFiles: string[];
  /** Authors (name) of repository commits. */
  repoAuthors: string[];
}

export function projectFootprint(
  targets: SharedTargets,
  name: string,
): ProjectFootprint {
  const repo = path.join(targets.reposRoot, name);
  const hasRepo = fs.existsSync(path.join(repo, '.git'));
  const branch = `refs/heads/model/${name}`;
  const hasBranch =
    fs.existsSync(targets.gitopsPath) &&
    lines(
      git(targets.gitopsPath, 'for-each-ref', '--format=%(refname)', branch),
    ).length > 0;
  return {
    name,
    repoCommits: hasRepo
      ? lines(git(repo, 'log', '--reverse', '--format=%s'))
      : [],
    repoFiles: hasRepo
      ? lines(git(repo, 'ls-tree', '-r', '--name-only', 'HEAD'))
      : [],
    repoAuthors: hasRepo
      ? lines(git(repo, 'log', '--reverse', '--format=%an'))
      : [],
    gitopsCommits: hasBranch
      ? lines(
          git(
            targets.gitopsPath,
            'log',
            '--reverse',
            '--format=%s',
            `main..${branch}`,
          ),
        )
      : [],
    gitopsFiles: hasBranch
      ? lines(git(targets.gitopsPath, 'ls-tree', '-r', '--name-only', branch))
      : [],
  };
}

/** Replaces a project's name so two projects' footprints compare letter for letter. */
export function normalise<T>(value: T, name: string): T {
  return JSON.parse(JSON.stringify(value).split(name).join('<name>'));
}

/** Branches under refs/heads of the GitOps repository other than main. */
export function gitopsBranches(targets: SharedTargets): string[] {
  if (!fs.existsSync(targets.gitopsPath)) return [];
  return lines(
    git(
      targets.gitopsPath,
      'for-each-ref',
      '--format=%(refname:short)',
      'refs/heads/',
    ),
  ).filter(b => b !== 'main');
}

export async function catalogLocations(
  baseUrl: string,
  token: string,
): Promise<Array<{ type: string; target: string }>> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await fetch(`${baseUrl}/api/catalog/locations`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!r.ok) throw new Error(`GET /api/catalog/locations: ${r.status}`);
      return (
        (await r.json()) as Array<{ data: { type: string; target: string } }>
      ).map(l => l.data);
    } catch (error) {
      // undici may reuse a keep-alive socket the server closed while idle ("other side closed")
      if (!(error instanceof TypeError) || attempt >= 3) {
        throw new Error(
          `GET ${baseUrl}/api/catalog/locations: ${(error as Error).message} (${(error as { cause?: Error }).cause?.message})`,
        );
      }
    }
  }
}

/** Locations registered for one project's repository. */
export function projectLocations(
  locations: Array<{ target: string }>,
  targets: SharedTargets,
  name: string,
) {
  const prefix = `${path.join(targets.reposRoot, name)}${path.sep}`;
  return locations.filter(l => l.target.startsWith(prefix));
}

/** Lines that record the start of a task's execution in a backend log (the scaffolder's `task` audit event). */
export function taskExecutions(logFiles: string[], taskId: string): number {
  let n = 0;
  for (const file of logFiles) {
    for (const line of fs
      .readFileSync(file, 'utf8')
      .replace(ANSI_COLOUR, '')
      .split('\n')) {
      if (
        line.includes(`"taskId":"${taskId}"`) &&
        line.includes('"actionType":"execution"') &&
        line.includes('status="initiated"')
      )
        n++;
    }
  }
  return n;
}

/**
 * Duplicate side effects of completed create-model tasks with distinct names: commits or
 * GitOps commits with the same subject twice, more than one catalog location per project,
 * GitOps branches of no project, and tasks started more than once.
 */
export function countDuplicates(input: {
  footprints: ProjectFootprint[];
  locations: Array<{ target: string }>;
  branches: string[];
  targets: SharedTargets;
  executions: number[];
}): { total: number; detail: Record<string, number> } {
  const dup = (xs: string[]) => xs.length - new Set(xs).size;
  const names = new Set(input.footprints.map(f => f.name));
  const detail = {
    repoCommits: input.footprints.reduce((n, f) => n + dup(f.repoCommits), 0),
    gitopsCommits: input.footprints.reduce(
      (n, f) => n + dup(f.gitopsCommits),
      0,
    ),
    locations: input.footprints.reduce(
      (n, f) =>
        n +
        Math.max(
          0,
          projectLocations(input.locations, input.targets, f.name).length - 1,
        ),
      0,
    ),
    strayBranches: input.branches.filter(
      b => !names.has(b.replace(/^model\//, '')),
    ).length,
    reruns: input.executions.reduce((n, e) => n + Math.max(0, e - 1), 0),
  };
  return { total: Object.values(detail).reduce((a, b) => a + b, 0), detail };
}

/** This module's side-effect audit events that succeeded for a task (the scaffolder's own `task` events and claims not made left out). */
export function succeededSideEffects(
  logFiles: string[],
  taskId: string,
): string[] {
  const found: string[] = [];
  for (const file of logFiles) {
    for (const line of fs
      .readFileSync(file, 'utf8')
      .replace(ANSI_COLOUR, '')
      .split('\n')) {
      if (
        !line.includes('isAuditEvent=true') ||
        !line.includes(`"taskId":"${taskId}"`) ||
        !line.includes('status="succeeded"')
      )
        continue;
      if (line.includes('"created":false')) continue; // a claim look-up that found another task's claim
      const eventId = /eventId="([^"]+)"/.exec(line)?.[1];
      if (eventId && eventId !== 'task') found.push(eventId);
    }
  }
  return found;
}
