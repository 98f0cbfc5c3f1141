import type { LoggerService } from '@backstage/backend-plugin-api';
import type { GithubClient } from '../shared/github/client';
import { commitToBranch } from '../shared/github/commit';
import { assertChange, commitMessage } from './change';
import type { GitOpsChange, GitOpsResult, GitOpsTarget } from './types';

export interface GitHubGitOpsOptions {
  /** A client per proposal (App tokens are short-lived). */
  client: () => Promise<GithubClient>;
  owner: string;
  repo: string;
  baseBranch: string;
  /** Labels added to new pull requests (merged with the change's labels). */
  labels?: string[];
  /** File layout (tensorflow.gitops.pathTemplate). */
  pathTemplate?: string;
  /** Web URL of the repository (default https://github.com/<owner>/<repo>). */
  htmlUrl?: string;
  logger?: LoggerService;
}

function status(error: unknown): number | undefined {
  return typeof (error as { status?: unknown })?.status === 'number'
    ? (error as { status: number }).status
    : undefined;
}

/**
 * GitOps target on GitHub: one branch and one pull request per project.
 * Look-before-create everywhere: an existing branch is moved forward (never
 * recreated), an open pull request with the same head is updated (never duplicated),
 * and a branch that already holds exactly these files gets no new commit.
 */
export class GitHubGitOpsTarget implements GitOpsTarget {
  readonly kind = 'github' as const;
  readonly pathTemplate?: string;

  constructor(private readonly options: GitHubGitOpsOptions) {
    this.pathTemplate = options.pathTemplate;
  }

  /** Where this target's repository is, for the claim store that lives beside the changes. */
  get repository(): {
    client: () => Promise<GithubClient>;
    owner: string;
    repo: string;
    baseBranch: string;
  } {
    const { client, owner, repo, baseBranch } = this.options;
    return { client, owner, repo, baseBranch };
  }

  async propose(change: GitOpsChange): Promise<GitOpsResult> {
    assertChange(change);
    try {
      return await this.proposeOnce(change);
    } catch (error) {
      // Another task created or moved the branch between our look-up and our write: look again once.
      if (status(error) === 422 || status(error) === 409) {
        this.options.logger?.warn(
          `GitOps branch ${change.branch} changed concurrently; retrying once`,
        );
        return this.proposeOnce(change);
      }
      throw error;
    }
  }

  private async proposeOnce(change: GitOpsChange): Promise<GitOpsResult> {
    const { owner, repo, baseBranch } = this.options;
    const octokit = await this.options.client();

    const base = await octokit.rest.git.getRef({
      owner,
      repo,
      ref: `heads/${baseBranch}`,
    });
    const { commit, changed, branchExisted } = await commitToBranch(octokit, {
      owner,
      repo,
      branch: change.branch,
      startPoint: base.data.object.sha,
      files: change.files,
      strategy: 'overlay',
      remove: change.ownedPaths ? p => change.ownedPaths!.test(p) : undefined,
      message: commitMessage(change),
      author: change.author,
    });
    if (!changed && !branchExisted) {
      // The base branch already holds exactly these files: nothing to propose.
      return {
        target: 'github',
        branch: baseBranch,
        commit,
        url: `${this.options.htmlUrl ?? `https://github.com/${owner}/${repo}`}/tree/${baseBranch}`,
        changed: false,
      };
    }

    const pr = await this.ensurePullRequest(octokit, change);
    return {
      target: 'github',
      branch: change.branch,
      commit,
      url: pr.html_url,
      pullRequestNumber: pr.number,
      changed,
    };
  }

  private async ensurePullRequest(octokit: GithubClient, change: GitOpsChange) {
    const { owner, repo, baseBranch } = this.options;
    const labels = [
      ...new Set([...(this.options.labels ?? []), ...(change.labels ?? [])]),
    ];
    const open = await octokit.rest.pulls.list({
      owner,
      repo,
      state: 'open',
      head: `${owner}:${change.branch}`,
      base: baseBranch,
      per_page: 10,
    });
    const existing = open.data.find(p => p.head.ref === change.branch);
    if (existing) {
      if (
        existing.title !== change.title ||
        (existing.body ?? '') !== change.description
      ) {
        await octokit.rest.pulls.update({
          owner,
          repo,
          pull_number: existing.number,
          title: change.title,
          body: change.description,
        });
      }
      const have = new Set(existing.labels.map(l => l.name));
      const missing = labels.filter(l => !have.has(l));
      if (missing.length > 0) {
        await octokit.rest.issues.addLabels({
          owner,
          repo,
          issue_number: existing.number,
          labels: missing,
        });
      }
      // Reviewers are requested once, when the pull request is opened (re-requesting re-notifies).
      return { html_url: existing.html_url, number: existing.number };
    }
    const created = await octokit.rest.pulls.create({
      owner,
      repo,
      title: change.title,
      body: change.description,
      head: change.branch,
      base: baseBranch,
    });
    if (labels.length > 0) {
      await octokit.rest.issues.addLabels({
        owner,
        repo,
        issue_number: created.data.number,
        labels,
      });
    }
    if (change.reviewers && change.reviewers.length > 0) {
      await octokit.rest.pulls.requestReviewers({
        owner,
        repo,
        pull_number: created.data.number,
        team_reviewers: change.reviewers,
      });
    }
    return { html_url: created.data.html_url, number: created.data.number };
  }
}
