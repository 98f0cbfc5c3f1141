import fs from 'node:fs/promises';
import type { GithubClient } from '../shared/github/client';
import {
  claimCommitMessage,
  claimFromCommitMessage,
  claimRef,
  type ClaimResult,
  type ClaimStore,
  type ProjectClaim,
} from '../access/claims';
import { git, GitError } from './git';
import type { LocalGitOpsTarget } from './local';

const ZERO_OID = '0000000000000000000000000000000000000000';
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

function status(error: unknown): number | undefined {
  const s = (error as { status?: unknown } | undefined)?.status;
  return typeof s === 'number' ? s : undefined;
}

/**
 * Claims in the local GitOps repository: one ref per project, `refs/tensorflow/claims/<name>`,
 * pointing at a commit whose message holds the claim. The ref is created with
 * `git update-ref <ref> <new> 0000…` — git's compare-and-swap that fails when the ref exists —
 * so two processes sharing the repository (two replicas, or two tasks in one) cannot both
 * create it. Branches, worktree and index are never touched.
 */
export class LocalClaimStore implements ClaimStore {
  readonly location: string;

  constructor(private readonly target: LocalGitOpsTarget) {
    this.location = `${target.repoPath} (${claimRef('<project>')})`;
  }

  async get(project: string): Promise<ProjectClaim | undefined> {
    // Reading never creates the repository (dry runs read claims too).
    const entries = await fs
      .readdir(this.target.repoPath)
      .catch(() => [] as string[]);
    if (entries.length === 0) return undefined;
    const cwd = await this.target.ensureRepository();
    const ref = claimRef(project);
    const found = await git(
      ['rev-parse', '--verify', '-q', `${ref}^{commit}`],
      { cwd, okCodes: [1] },
    );
    if (found.code !== 0) return undefined;
    const sha = found.stdout.trim();
    const body = (await git(['log', '-1', '--format=%B', sha], { cwd })).stdout;
    return claimFromCommitMessage(body, `${this.target.repoPath} ${ref}`);
  }

  async create(claim: ProjectClaim): Promise<ClaimResult> {
    const cwd = await this.target.ensureRepository();
    const ref = claimRef(claim.project);
    const existing = await this.get(claim.project);
    if (existing) return { created: false, claim: existing };
    await git(['hash-object', '-t', 'tree', '-w', '--stdin'], {
      cwd,
      input: '',
    });
    const commit = (
      await git(
        [
          'commit-tree',
          '--no-gpg-sign',
          EMPTY_TREE,
          '-m',
          claimCommitMessage(claim),
        ],
        {
          cwd,
          env: this.target.identityEnv({
            name: 'Backstage TensorFlow',
            email: 'tensorflow-scaffolder@backstage.local',
          }),
        },
      )
    ).stdout.trim();
    for (let attempt = 1; ; attempt++) {
      try {
        await git(
          ['update-ref', '-m', `claim ${claim.project}`, ref, commit, ZERO_OID],
          { cwd },
        );
        return { created: true, claim };
      } catch (error) {
        // Lost the race (the ref now exists) or met another writer's lock: look again.
        const winner = await this.get(claim.project);
        if (winner) return { created: false, claim: winner };
        if (!(error instanceof GitError) || attempt >= 5) throw error;
        await new Promise(r => setTimeout(r, 20 * attempt));
      }
    }
  }
}

export interface GithubClaimStoreOptions {
  client: () => Promise<GithubClient>;
  owner: string;
  repo: string;
  baseBranch: string;
}

/**
 * Claims in the GitHub GitOps repository, as the same refs (`refs/tensorflow/claims/<name>`).
 * GitHub's "create a reference" answers 422 when the ref exists, which makes creation
 * atomic across replicas; the loser reads the winner's claim back. The claim commit reuses
 * the base branch's tree, so no object is written that the repository does not hold.
 */
export class GithubClaimStore implements ClaimStore {
  readonly location: string;

  constructor(private readonly options: GithubClaimStoreOptions) {
    this.location = `${options.owner}/${options.repo} (${claimRef('<project>')})`;
  }

  async get(project: string): Promise<ProjectClaim | undefined> {
    const { owner, repo } = this.options;
    const octokit = await this.options.client();
    let sha: string;
    try {
      sha = (
        await octokit.rest.git.getRef({
          owner,
          repo,
          ref: claimRef(project).replace(/^refs\//, ''),
        })
      ).data.object.sha;
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
    const commit = await octokit.rest.git.getCommit({
      owner,
      repo,
      commit_sha: sha,
    });
    return claimFromCommitMessage(
      commit.data.message,
      `${owner}/${repo} ${claimRef(project)}`,
    );
  }

  async create(claim: ProjectClaim): Promise<ClaimResult> {
    const existing = await this.get(claim.project);
    if (existing) return { created: false, claim: existing };
    const { owner, repo, baseBranch } = this.options;
    const octokit = await this.options.client();
    const base = await octokit.rest.git.getRef({
      owner,
      repo,
      ref: `heads/${baseBranch}`,
    });
    const baseCommit = await octokit.rest.git.getCommit({
      owner,
      repo,
      commit_sha: base.data.object.sha,
    });
    const commit = await octokit.rest.git.createCommit({
      owner,
      repo,
      message: claimCommitMessage(claim),
      tree: baseCommit.data.tree.sha ?? EMPTY_TREE,
      parents: [],
    });
    try {
      await octokit.rest.git.createRef({
        owner,
        repo,
        ref: claimRef(claim.project),
        sha: commit.data.sha,
      });
      return { created: true, claim };
    } catch (error) {
      if (status(error) !== 422) throw error;
      const winner = await this.get(claim.project);
      if (winner) return { created: false, claim: winner };
      throw error;
    }
  }
}
