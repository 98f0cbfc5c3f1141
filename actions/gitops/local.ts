import type { LoggerService } from '@backstage/backend-plugin-api';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { git, isLockContention } from './git';
import type { GitOpsChange, GitOpsResult, GitOpsTarget } from './types';
import { assertChange, commitMessage } from './change';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const ZERO_OID = '0000000000000000000000000000000000000000';

export interface LocalGitOpsOptions {
  /** Repository folder; created (git init) if missing. */
  path: string;
  /** Branch new project branches fork from (default `main`). */
  baseBranch?: string;
  /** File layout (tensorflow.gitops.pathTemplate). */
  pathTemplate?: string;
  logger?: LoggerService;
  /** How long to wait for another process's lock before failing (default 60 s). */
  lockTimeoutMs?: number;
  /** Injected clock for commit dates (tests); default now. */
  now?: () => Date;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** In-process serialisation per repository path. */
const queues = new Map<string, Promise<unknown>>();
function serialise<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

/** A lock whose holder stopped refreshing it for this long is taken over (the holder died). */
const LOCK_STALE_MS = 15_000;

/**
 * Cross-process lock shared by every replica that uses the same repository path: a
 * proper-lockfile lock (an atomic mkdir inside the git directory) that its holder keeps
 * fresh; a replica killed while holding it leaves a lock that goes stale after 15 s and is
 * then taken over, instead of blocking every later task. Updates still go through git's
 * compare-and-swap, so even a holder that lost its lock cannot overwrite another's commit.
 */
async function withFileLock<T>(
  lockFile: string,
  timeoutMs: number,
  fn: () => Promise<T>,
  logger?: LoggerService,
): Promise<T> {
  let release: () => Promise<void>;
  try {
    const lockfile = await import('proper-lockfile'); // loaded by the first GitOps change, not at import
    release = await lockfile.lock(path.dirname(lockFile), {
      lockfilePath: lockFile,
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: {
        retries: 10_000,
        factor: 2,
        minTimeout: 25,
        maxTimeout: 1000,
        randomize: true,
        maxRetryTime: timeoutMs,
      },
      onCompromised: error =>
        logger?.warn(
          `GitOps lock ${lockFile} was taken over while held: ${error.message}`,
        ),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new Error(
        `GitOps repository is locked by another task (${lockFile}); try again later`,
      );
    }
    throw error;
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * GitOps target on a local git repository (embedded default, no network).
 * Commits with plumbing only (hash-object, a private index file, write-tree,
 * commit-tree, update-ref with compare-and-swap): the checked-out branch, its
 * worktree and its index are never touched.
 */
export class LocalGitOpsTarget implements GitOpsTarget {
  readonly kind = 'local' as const;
  readonly pathTemplate?: string;
  readonly repoPath: string;
  private readonly baseBranch: string;

  constructor(private readonly options: LocalGitOpsOptions) {
    this.repoPath = path.resolve(options.path);
    this.pathTemplate = options.pathTemplate;
    this.baseBranch = options.baseBranch ?? 'main';
  }

  async propose(change: GitOpsChange): Promise<GitOpsResult> {
    assertChange(change);
    await this.assertBranchName(change.branch);
    return serialise(this.repoPath, async () => {
      const gitDir = await this.ensureRepository();
      return withFileLock(
        path.join(gitDir, 'tensorflow-gitops.lock'),
        this.options.lockTimeoutMs ?? 60_000,
        () => this.withRetry(() => this.commit(change)),
        this.options.logger,
      );
    });
  }

  private async assertBranchName(branch: string) {
    const { code } = await git(['check-ref-format', `refs/heads/${branch}`], {
      cwd: os.tmpdir(),
      okCodes: [1],
    });
    if (code !== 0)
      throw new Error(
        `GitOps branch "${branch}" is not a valid git branch name`,
      );
  }

  /** Retries on git lock contention (e.g. index.lock or a ref lock held by a process outside our lock). */
  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    let delay = 50;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!isLockContention(error) || attempt >= 6) throw error;
        this.options.logger?.warn(
          `GitOps repository busy (attempt ${attempt}); retrying in ${delay}ms`,
        );
        await sleep(delay);
        delay *= 2;
      }
    }
  }

  /** The repository's git directory; creates and initialises the repository when missing. */
  async ensureRepository(): Promise<string> {
    const repo = this.repoPath;
    await fs.mkdir(repo, { recursive: true });
    const probe = await git(['rev-parse', '--absolute-git-dir'], {
      cwd: repo,
      okCodes: [128],
    });
    if (probe.code === 0) {
      const gitDir = probe.stdout.trim();
      const top = await git(
        ['rev-parse', '--is-bare-repository', '--show-toplevel'],
        { cwd: repo, okCodes: [128] },
      );
      const lines = top.stdout.trim().split('\n');
      const isOwnRepo =
        lines[0] === 'true'
          ? path.resolve(gitDir) === repo
          : path.resolve(lines[1] ?? '') === repo;
      if (isOwnRepo) return gitDir;
      // The folder sits inside some other repository: never commit there.
    }
    const entries = await fs.readdir(repo);
    if (entries.length > 0) {
      throw new Error(
        `GitOps path ${repo} exists, is not empty and is not a git repository`,
      );
    }
    // Serialise initialisation across processes with a lock next to the folder.
    return withFileLock(
      `${repo}.init.lock`,
      this.options.lockTimeoutMs ?? 60_000,
      async () => {
        const again = await git(['rev-parse', '--absolute-git-dir'], {
          cwd: repo,
          okCodes: [128],
        });
        if (again.code === 0 && (await fs.readdir(repo)).length > 0)
          return again.stdout.trim();
        await git(['init', '-q', '-b', this.baseBranch], { cwd: repo });
        const env = this.identityEnv({
          name: 'Backstage TensorFlow',
          email: 'tensorflow-scaffolder@backstage.local',
        });
        await git(['hash-object', '-t', 'tree', '-w', '--stdin'], {
          cwd: repo,
          input: '',
        });
        const { stdout } = await git(
          [
            'commit-tree',
            '--no-gpg-sign',
            EMPTY_TREE,
            '-m',
            'Initialise GitOps repository',
          ],
          { cwd: repo, env },
        );
        await git(
          [
            'update-ref',
            `refs/heads/${this.baseBranch}`,
            stdout.trim(),
            ZERO_OID,
          ],
          { cwd: repo },
        );
        return (
          await git(['rev-parse', '--absolute-git-dir'], { cwd: repo })
        ).stdout.trim();
      },
    );
  }

  identityEnv(author: { name: string; email: string }): Record<string, string> {
    const date = (this.options.now?.() ?? new Date()).toISOString();
    return {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: 'Backstage TensorFlow',
      GIT_COMMITTER_EMAIL: 'tensorflow-scaffolder@backstage.local',
      GIT_COMMITTER_DATE: date,
    };
  }

  private async resolve(ref: string): Promise<string | undefined> {
    const { stdout, code } = await git(
      ['rev-parse', '--verify', '-q', `${ref}^{commit}`],
      {
        cwd: this.repoPath,
        okCodes: [1],
      },
    );
    return code === 0 ? stdout.trim() : undefined;
  }

  private async commit(change: GitOpsChange): Promise<GitOpsResult> {
    const cwd = this.repoPath;
    const branchRef = `refs/heads/${change.branch}`;
    const head = await this.resolve(branchRef);
    const parent =
      head ?? (await this.resolve(`refs/heads/${this.baseBranch}`));
    const url = `${pathToFileURL(cwd).href}#${change.branch}`;

    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tf-gitops-index-'));
    try {
      const env = { GIT_INDEX_FILE: path.join(tmp, 'index') };
      await git(
        parent ? ['read-tree', `${parent}^{tree}`] : ['read-tree', '--empty'],
        { cwd, env },
      );

      const lines: string[] = [];
      const wanted = new Set(change.files.map(f => f.path));
      if (change.ownedPaths) {
        const listed = await git(['ls-files', '-z'], { cwd, env });
        for (const existing of listed.stdout.split('\0').filter(Boolean)) {
          if (change.ownedPaths.test(existing) && !wanted.has(existing))
            lines.push(`0 ${ZERO_OID}\t${existing}`);
        }
      }
      // One hash-object for all blobs: contents are written to private temp files first.
      const blobPaths = await Promise.all(
        change.files.map(async (file, i) => {
          const p = path.join(tmp, `blob-${i}`);
          await fs.writeFile(p, file.content, 'utf8');
          return p;
        }),
      );
      const hashed = (
        await git(['hash-object', '-w', '--no-filters', '--stdin-paths'], {
          cwd,
          input: `${blobPaths.join('\n')}\n`,
        })
      ).stdout
        .trim()
        .split('\n');
      if (hashed.length !== change.files.length)
        throw new Error('git hash-object returned an unexpected number of ids');
      change.files.forEach((file, i) =>
        lines.push(`100644 ${hashed[i]}\t${file.path}`),
      );
      await git(['update-index', '--index-info'], {
        cwd,
        env,
        input: `${lines.join('\n')}\n`,
      });
      const tree = (await git(['write-tree'], { cwd, env })).stdout.trim();
      const parentTree = parent
        ? (await git(['rev-parse', `${parent}^{tree}`], { cwd })).stdout.trim()
        : EMPTY_TREE;

      if (tree === parentTree && parent) {
        if (!head)
          await git(['update-ref', branchRef, parent, ZERO_OID], { cwd });
        return {
          target: 'local',
          branch: change.branch,
          commit: parent,
          url,
          changed: false,
        };
      }
      const args = [
        'commit-tree',
        '--no-gpg-sign',
        tree,
        '-m',
        commitMessage(change),
      ];
      if (parent) args.splice(3, 0, '-p', parent);
      const commit = (
        await git(args, { cwd, env: this.identityEnv(change.author) })
      ).stdout.trim();
      // Compare-and-swap: fails if someone moved the branch since we read it.
      await git(
        [
          'update-ref',
          '-m',
          `tensorflow gitops: ${change.title}`,
          branchRef,
          commit,
          head ?? ZERO_OID,
        ],
        { cwd },
      );
      this.options.logger?.info(
        `Committed ${change.files.length} file(s) to ${branchRef} in ${cwd} (${commit})`,
      );
      return {
        target: 'local',
        branch: change.branch,
        commit,
        url,
        changed: true,
      };
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }
}
