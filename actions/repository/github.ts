import fs from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '@backstage/errors';
import type { ScmIntegrationRegistry } from '@backstage/integration';
import {
  PROVISIONING_RECORD_FILE,
  type RepositoryRecordState,
} from '../access/binding';
import {
  parseGithubRepoUrl,
  readRepositoryFile,
  type GithubClient,
  type GithubRepo,
} from '../shared/github/client';
import {
  assertRepositoryPath,
  commitToBranch,
  type BranchFile,
} from '../shared/github/commit';
import { comparePaths } from '../shared/sort';
import type {
  CatalogLocationSpec,
  CommitFilesRequest,
  PublishRequest,
  PublishResult,
  RepositoryPublisher,
} from './types';

export type GithubRepositoryVisibility = 'private' | 'internal' | 'public';

export interface GithubRepositoryPublisherOptions {
  integrations: ScmIntegrationRegistry;
  /** A client per call (GitHub App tokens are short-lived). */
  getClient: (target: GithubRepo) => Promise<GithubClient>;
  /** Visibility of repositories this publisher creates (default private). */
  visibility?: GithubRepositoryVisibility;
}

type RepoData = { clone_url: string; html_url: string; default_branch: string };

function status(error: unknown): number | undefined {
  const s = (error as { status?: unknown } | undefined)?.status;
  return typeof s === 'number' ? s : undefined;
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;

/** Every file under `dir` (recursively, no `.git`), as bytes with its git mode; sorted by path. */
export async function readRepositoryFiles(dir: string): Promise<BranchFile[]> {
  const files: BranchFile[] = [];
  async function walk(abs: string, rel: string): Promise<void> {
    const entries = await fs.readdir(abs, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      const childAbs = path.join(abs, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        await walk(childAbs, childRel);
      } else if (entry.isSymbolicLink()) {
        files.push({
          path: childRel,
          content: Buffer.from(await fs.readlink(childAbs)),
          mode: '120000',
        });
      } else if (entry.isFile()) {
        const stat = await fs.stat(childAbs);
        files.push({
          path: childRel,
          content: await fs.readFile(childAbs),
          mode: stat.mode & 0o111 ? '100755' : '100644',
        });
      }
    }
  }
  await walk(dir, '');
  return files.sort(comparePaths);
}

/**
 * Model repositories on GitHub (and GitHub Enterprise hosts configured under
 * integrations.github): `github.com?owner=<org>&repo=<name>`.
 *
 * publish looks before it creates: an existing repository is reused, a missing one is
 * created (private by default) with GitHub's `auto_init`, because GitHub's git data API
 * refuses to write blobs, trees or refs into an empty repository (409 "Git Repository is
 * empty"). The auto-init commit is then replaced by one parentless commit of the
 * workspace, authored by the initiator. Re-publishing identical content makes no commit.
 */
export class GithubRepositoryPublisher implements RepositoryPublisher {
  /** Default branch per repository seen in this process (catalogLocation has no API call). */
  private readonly branches = new Map<string, string>();

  constructor(private readonly options: GithubRepositoryPublisherOptions) {}

  handles(repoUrl: string): boolean {
    const host = repoUrl.split('?', 1)[0];
    return (
      host !== '' &&
      host !== 'local' &&
      this.options.integrations.github.byHost(host) !== undefined
    );
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const target = this.parse(request.repoUrl);
    const { host, owner, repo } = target;
    const files = await readRepositoryFiles(request.sourceDir);
    if (files.length === 0) {
      throw new InputError(
        `sourceDir "${request.sourceDir}" holds no files to publish to ${request.repoUrl}`,
      );
    }
    const octokit = await this.options.getClient(target);

    let data = await this.getRepository(octokit, owner, repo);
    let created = false;
    if (!data) {
      const made = await this.createRepository(
        octokit,
        owner,
        repo,
        request.description,
      );
      data = made.data;
      created = made.created;
    }
    // GitHub's create is atomic: a repository we did not create here must already be bound to us.
    request.guard?.(
      created
        ? { exists: false }
        : await this.recordOf(octokit, owner, repo, data.default_branch),
    );
    const autoInitBranch = data.default_branch;
    const branch = request.defaultBranch ?? autoInitBranch;
    const result = await commitToBranch(octokit, {
      owner,
      repo,
      branch,
      files,
      strategy: 'replace',
      message: request.message,
      author: request.author,
      // Replace GitHub's auto-init commit of the repository we have just created.
      replaceHistory: created && branch === autoInitBranch,
    });
    if (created && branch !== autoInitBranch) {
      // Our branch becomes the default; GitHub's auto-init branch goes.
      await octokit.rest.repos.update({ owner, repo, default_branch: branch });
      await octokit.rest.git.deleteRef({
        owner,
        repo,
        ref: `heads/${autoInitBranch}`,
      });
    }
    this.branches.set(key(host, owner, repo), branch);
    return {
      repoUrl: request.repoUrl,
      remoteUrl: data.clone_url,
      repoContentsUrl: `${data.html_url}/tree/${branch}`,
      defaultBranch: branch,
      commit: result.commit,
      changed: result.changed,
    };
  }

  async readRecord(repoUrl: string): Promise<RepositoryRecordState> {
    const target = this.parse(repoUrl);
    const octokit = await this.options.getClient(target);
    const data = await this.getRepository(octokit, target.owner, target.repo);
    return data
      ? this.recordOf(octokit, target.owner, target.repo, data.default_branch)
      : { exists: false };
  }

  private async recordOf(
    octokit: GithubClient,
    owner: string,
    repo: string,
    branch: string,
  ): Promise<RepositoryRecordState> {
    return {
      exists: true,
      record: await readRepositoryFile(octokit, {
        owner,
        repo,
        path: PROVISIONING_RECORD_FILE,
        ref: branch,
      }),
    };
  }

  async commitFiles(
    request: CommitFilesRequest,
  ): Promise<{ commit: string; changed: boolean }> {
    const target = this.parse(request.repoUrl);
    const { host, owner, repo } = target;
    for (const file of request.files) {
      try {
        assertRepositoryPath(file.path);
      } catch (e) {
        throw new InputError((e as Error).message);
      }
    }
    const octokit = await this.options.getClient(target);
    const data = await this.getRepository(octokit, owner, repo);
    if (!data) {
      throw new InputError(
        `repository "${request.repoUrl}" does not exist yet; publish it before adding files`,
      );
    }
    const branch = data.default_branch;
    const result = await commitToBranch(octokit, {
      owner,
      repo,
      branch,
      files: request.files.map(f => ({ path: f.path, content: f.content })),
      strategy: 'overlay',
      message: request.message,
      author: request.author,
    });
    this.branches.set(key(host, owner, repo), branch);
    return { commit: result.commit, changed: result.changed };
  }

  catalogLocation(repoUrl: string, filePath: string): CatalogLocationSpec {
    const { host, owner, repo } = this.parse(repoUrl);
    try {
      assertRepositoryPath(filePath);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    const branch = this.branches.get(key(host, owner, repo)) ?? 'main';
    const encoded = [
      owner,
      repo,
      'blob',
      ...branch.split('/'),
      ...filePath.split('/'),
    ]
      .map(encodeURIComponent)
      .join('/');
    return { type: 'url', target: `https://${host}/${encoded}` };
  }

  private parse(repoUrl: string): Required<GithubRepo> {
    const target = parseGithubRepoUrl(repoUrl, this.options.integrations);
    if (!OWNER.test(target.owner)) {
      throw new InputError(
        `repoUrl "${repoUrl}": owner "${target.owner}" is not a valid GitHub user or organisation name`,
      );
    }
    if (
      !REPO.test(target.repo) ||
      target.repo === '.' ||
      target.repo === '..'
    ) {
      throw new InputError(
        `repoUrl "${repoUrl}": repo "${target.repo}" is not a valid GitHub repository name (letters, digits, ".", "-", "_")`,
      );
    }
    return target;
  }

  private async getRepository(
    octokit: GithubClient,
    owner: string,
    repo: string,
  ): Promise<RepoData | undefined> {
    try {
      return (await octokit.rest.repos.get({ owner, repo })).data;
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  private async createRepository(
    octokit: GithubClient,
    owner: string,
    repo: string,
    description?: string,
  ): Promise<{ data: RepoData; created: boolean }> {
    const visibility = this.options.visibility ?? 'private';
    const common = {
      name: repo,
      private: visibility !== 'public',
      auto_init: true,
      ...(description ? { description } : {}),
    };
    let isOrganisation = true;
    try {
      await octokit.rest.orgs.get({ org: owner });
    } catch (error) {
      if (status(error) !== 404) throw error;
      isOrganisation = false;
    }
    try {
      if (isOrganisation) {
        // api.github.com's description lists only public/private; "internal" exists on GitHub Enterprise.
        const made = await octokit.rest.repos.createInOrg({
          org: owner,
          ...common,
          ...(visibility === 'internal' ? { visibility } : {}),
        } as Parameters<GithubClient['rest']['repos']['createInOrg']>[0]);
        return { data: made.data, created: true };
      }
      // No such organisation: the owner may be the user the integration authenticates as.
      if (visibility === 'internal') {
        throw new InputError(
          `repository visibility "internal" needs an organisation owner; "${owner}" is not an organisation`,
        );
      }
      const me = (await octokit.rest.users.getAuthenticated()).data.login;
      if (me.toLowerCase() !== owner.toLowerCase()) {
        throw new InputError(
          `cannot create ${owner}/${repo}: "${owner}" is neither an organisation the GitHub integration can create repositories in nor the user it authenticates as ("${me}"); check the owner or create the repository first`,
        );
      }
      const made = await octokit.rest.repos.createForAuthenticatedUser(common);
      return { data: made.data, created: true };
    } catch (error) {
      // A concurrent task created it between our look-up and our create: use it.
      if (status(error) === 422) {
        const existing = await this.getRepository(octokit, owner, repo);
        if (existing) return { data: existing, created: false };
      }
      throw error;
    }
  }
}

function key(host: string, owner: string, repo: string): string {
  return `${host}/${owner}/${repo}`.toLowerCase();
}
