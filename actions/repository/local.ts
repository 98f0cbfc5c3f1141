import fs from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '@backstage/errors';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import {
  PROVISIONING_RECORD_FILE,
  type RepositoryRecordState,
} from '../access/binding';
import { assertDnsLabel } from '../shared/naming';
import { git, withRepositoryLock } from '../shared/git';
import type {
  CatalogLocationSpec,
  CommitFilesRequest,
  PublishRequest,
  PublishResult,
  RepositoryAuthor,
  RepositoryPublisher,
} from './types';

const HOST = 'local';

/** Parses `local?repo=<name>` (the form RepoUrlPicker-style inputs take on embedded defaults). */
export function parseLocalRepoUrl(repoUrl: string): { repo: string } {
  const [host, query = ''] = repoUrl.split('?', 2);
  if (host !== HOST) {
    throw new InputError(
      `repoUrl "${repoUrl.slice(0, 80)}" is not a local repository; use the form "local?repo=<name>"`,
    );
  }
  const repo = new URLSearchParams(query).get('repo');
  return { repo: assertDnsLabel('repoUrl repo', repo ?? '') };
}

/**
 * Model repositories as real git repositories on disk, for embedded defaults: each has a
 * working tree (so the catalog can read `catalog-info.yaml` as a file location) and every
 * commit is authored by the person who started the task.
 */
export class LocalRepositoryPublisher implements RepositoryPublisher {
  constructor(private readonly root: string) {}

  handles(repoUrl: string): boolean {
    return repoUrl.split('?', 1)[0] === HOST;
  }

  checkRepoUrl(repoUrl: string): void {
    parseLocalRepoUrl(repoUrl);
  }

  repositoryPath(repoUrl: string): string {
    return path.join(this.root, parseLocalRepoUrl(repoUrl).repo);
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const dir = this.repositoryPath(request.repoUrl);
    const branch = request.defaultBranch ?? 'main';
    return withRepositoryLock(dir, async () => {
      request.guard?.(await readRecordAt(dir));
      await this.ensureRepository(dir, branch);
      await clearWorkingTree(dir);
      await fs.cp(request.sourceDir, dir, {
        recursive: true,
        filter: source => path.basename(source) !== '.git',
      });
      const { commit, changed } = await commitAll(
        dir,
        request.message,
        request.author,
      );
      return {
        repoUrl: request.repoUrl,
        remoteUrl: dir,
        repoContentsUrl: this.contentsUrl(request.repoUrl),
        defaultBranch: branch,
        commit,
        changed,
      };
    });
  }

  async readRecord(repoUrl: string): Promise<RepositoryRecordState> {
    return readRecordAt(this.repositoryPath(repoUrl));
  }

  async commitFiles(
    request: CommitFilesRequest,
  ): Promise<{ commit: string; changed: boolean }> {
    const dir = this.repositoryPath(request.repoUrl);
    return withRepositoryLock(dir, async () => {
      if (!(await exists(path.join(dir, '.git')))) {
        throw new InputError(
          `repository "${request.repoUrl}" does not exist yet; publish it before adding files`,
        );
      }
      for (const file of request.files) {
        const target = resolveSafeChildPath(dir, file.path);
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, file.content);
      }
      return commitAll(dir, request.message, request.author);
    });
  }

  contentsUrl(repoUrl: string): string {
    return `file://${this.repositoryPath(repoUrl)}`;
  }

  catalogLocation(repoUrl: string, filePath: string): CatalogLocationSpec {
    return {
      type: 'file',
      target: resolveSafeChildPath(this.repositoryPath(repoUrl), filePath),
    };
  }

  private async ensureRepository(dir: string, branch: string): Promise<void> {
    if (await exists(path.join(dir, '.git'))) return;
    await fs.mkdir(dir, { recursive: true });
    await git(['init', '--quiet', `--initial-branch=${branch}`], { cwd: dir });
  }
}

/** The record as committed on HEAD (not the working tree, which a publish rewrites). */
async function readRecordAt(dir: string): Promise<RepositoryRecordState> {
  if (!(await exists(dir))) return { exists: false };
  if (!(await exists(path.join(dir, '.git')))) {
    // A folder that is no repository is still something we must not replace, unless it is bound.
    if ((await fs.readdir(dir)).length === 0) return { exists: false };
    return {
      exists: true,
      record: await fs
        .readFile(path.join(dir, PROVISIONING_RECORD_FILE), 'utf8')
        .catch(() => undefined),
    };
  }
  const head = await git(['rev-parse', '--verify', '-q', 'HEAD'], {
    cwd: dir,
  }).then(
    () => true,
    () => false,
  );
  // An initialised repository without a commit holds nothing to protect.
  if (!head) return { exists: false };
  try {
    return {
      exists: true,
      record: (
        await git(['show', `HEAD:${PROVISIONING_RECORD_FILE}`], { cwd: dir })
      ).stdout,
    };
  } catch {
    return { exists: true };
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

async function clearWorkingTree(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir)) {
    if (entry === '.git') continue;
    await fs.rm(path.join(dir, entry), { recursive: true, force: true });
  }
}

async function commitAll(
  dir: string,
  message: string,
  author: RepositoryAuthor,
): Promise<{ commit: string; changed: boolean }> {
  await git(['add', '--all'], { cwd: dir });
  const status = await git(['status', '--porcelain'], { cwd: dir });
  const hasHead = await git(['rev-parse', '--verify', '--quiet', 'HEAD'], {
    cwd: dir,
  }).then(
    () => true,
    () => false,
  );
  if (status.stdout.trim() === '' && hasHead) {
    const head = await git(['rev-parse', 'HEAD'], { cwd: dir });
    return { commit: head.stdout.trim(), changed: false };
  }
  await git(['commit', '--quiet', '--allow-empty', '-m', message], {
    cwd: dir,
    env: {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: 'Backstage scaffolder',
      GIT_COMMITTER_EMAIL: 'scaffolder@backstage.local',
    },
  });
  const head = await git(['rev-parse', 'HEAD'], { cwd: dir });
  return { commit: head.stdout.trim(), changed: true };
}
