import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  GithubCredentialsProvider,
  ScmIntegrationRegistry,
} from '@backstage/integration';
import {
  createGithubClient,
  parseGithubRepoUrl,
} from '../shared/github/client';
import type { GitOpsConfig } from './config';
import { GitHubGitOpsTarget } from './github';
import { LocalGitOpsTarget } from './local';
import type { GitOpsTarget } from './types';
import type { ClaimStore } from '../access/claims';
import { GithubClaimStore, LocalClaimStore } from './claims';

export * from './types';
export {
  readGitOpsConfig,
  renderGitOpsPath,
  ownedPathPattern,
  DEFAULT_PATH_TEMPLATE,
} from './config';
export type { GitOpsConfig } from './config';
export { LocalGitOpsTarget } from './local';
export { GitHubGitOpsTarget } from './github';
export { GithubClaimStore, LocalClaimStore } from './claims';

/** Project claims live in the GitOps repository, which every replica already shares. */
export function createClaimStore(target: GitOpsTarget): ClaimStore {
  if (target instanceof LocalGitOpsTarget) return new LocalClaimStore(target);
  if (target instanceof GitHubGitOpsTarget)
    return new GithubClaimStore(target.repository);
  throw new Error(`No project claim store for GitOps target "${target.kind}"`);
}

export interface GitOpsTargetDeps {
  integrations: ScmIntegrationRegistry;
  logger: LoggerService;
  credentialsProvider?: GithubCredentialsProvider;
  /** Extra Octokit options (tests only). */
  octokitOptions?: Record<string, unknown>;
}

/** Builds the configured GitOps target once, for module.ts to inject into actions. */
export function createGitOpsTarget(
  config: GitOpsConfig,
  deps: GitOpsTargetDeps,
): GitOpsTarget {
  if (config.target === 'github') {
    const github = config.github!;
    const { host, owner, repo } = parseGithubRepoUrl(
      github.repoUrl,
      deps.integrations,
    );
    return new GitHubGitOpsTarget({
      owner,
      repo,
      baseBranch: github.baseBranch,
      labels: github.labels,
      pathTemplate: config.pathTemplate,
      htmlUrl: `https://${host}/${owner}/${repo}`,
      logger: deps.logger,
      client: () =>
        createGithubClient(
          { host, owner, repo },
          {
            integrations: deps.integrations,
            credentialsProvider: deps.credentialsProvider,
            logger: deps.logger,
            octokitOptions: deps.octokitOptions,
          },
        ),
    });
  }
  return new LocalGitOpsTarget({
    path: config.local.path,
    baseBranch: config.local.baseBranch,
    pathTemplate: config.pathTemplate,
    logger: deps.logger,
  });
}
