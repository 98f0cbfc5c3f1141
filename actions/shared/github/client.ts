import type { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  DefaultGithubCredentialsProvider,
  type GithubCredentialsProvider,
  type ScmIntegrationRegistry,
} from '@backstage/integration';
import type { ThrottlingOptions } from '@octokit/plugin-throttling';
import type { Octokit } from '@octokit/rest';
import { lazy } from '../lazy';

/** Octokit with the retry and throttling plugins: the one GitHub client type of this module. */
const githubOctokit = lazy(() => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Octokit: Base } =
    require('@octokit/rest') as typeof import('@octokit/rest');
  const { retry } =
    require('@octokit/plugin-retry') as typeof import('@octokit/plugin-retry');
  const { throttling } =
    require('@octokit/plugin-throttling') as typeof import('@octokit/plugin-throttling');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return Base.plugin(retry, throttling);
});
/** What callers use of the client: the REST methods (the plugins work inside requests). */
export type GithubClient = Octokit;

export interface GithubRepo {
  host: string;
  owner: string;
  repo?: string;
}

export interface GithubClientDeps {
  integrations: ScmIntegrationRegistry;
  /** Defaults to DefaultGithubCredentialsProvider.fromIntegrations(integrations). */
  credentialsProvider?: GithubCredentialsProvider;
  logger?: LoggerService;
  /** Extra Octokit options (tests: `request: { fetch }`, `throttle: { enabled: false }`, quiet `log`). */
  octokitOptions?: Record<string, unknown>;
  /** Rate-limit retries before giving up (default 2). */
  maxRateLimitRetries?: number;
  /**
   * Transient failures (5xx, and other statuses not in `doNotRetry`): attempts after the first
   * (default 3) and the delay unit in ms (default 1000; attempt n waits n² units). Tests pass 1 ms.
   */
  retry?: { retries?: number; retryAfterBaseValue?: number };
  /** Delay unit in ms for rate-limit waits (GitHub's retry-after is in seconds; default 1000). */
  rateLimitRetryAfterBaseValue?: number;
}

/**
 * Statuses never retried: client errors, and 409 (a conflict such as a stale file sha does not
 * go away by sending the same request again). 403 rate limits are the throttling plugin's.
 */
export const GITHUB_DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 451];

/** Names GitHub, the request and the status in the error message (status, response are kept). */
export function describeGithubErrors(octokit: GithubClient): GithubClient {
  octokit.hook.error('request', (error, options) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && !/^GitHub /.test(error.message)) {
      error.message = `GitHub ${options.method} ${options.url} failed with ${status}: ${error.message}`;
    }
    throw error;
  });
  return octokit;
}

/** Parses `github.com?owner=<org>&repo=<repo>` (the scaffolder's repoUrl form). */
export function parseGithubRepoUrl(
  repoUrl: string,
  integrations: ScmIntegrationRegistry,
): Required<GithubRepo> {
  if (typeof repoUrl !== 'string' || repoUrl.length > 500) {
    throw new InputError(
      'repoUrl must be a string of at most 500 characters such as github.com?owner=<org>&repo=<repo>',
    );
  }
  let url: URL;
  try {
    url = new URL(`https://${repoUrl}`);
  } catch {
    throw new InputError(
      `repoUrl "${String(repoUrl).slice(0, 80)}" must look like github.com?owner=<org>&repo=<repo>`,
    );
  }
  const owner = url.searchParams.get('owner');
  const repo = url.searchParams.get('repo');
  if (!owner || !repo) {
    throw new InputError(
      `repoUrl "${repoUrl.slice(0, 80)}" must name owner and repo: github.com?owner=<org>&repo=<repo>`,
    );
  }
  const githubName = /^[A-Za-z0-9_.-]{1,100}$/;
  for (const [part, value] of [
    ['owner', owner],
    ['repo', repo],
  ]) {
    if (!githubName.test(value) || value === '.' || value === '..') {
      throw new InputError(
        `repoUrl ${part} "${value.slice(0, 80)}" is not a GitHub name: use letters, digits, ".", "_" and "-" (at most 100), e.g. github.com?owner=acme&repo=fraud-detector`,
      );
    }
  }
  if (!integrations.github.byHost(url.host)) {
    throw new InputError(
      `repoUrl "${repoUrl.slice(0, 80)}": no GitHub integration is configured for host "${url.host}" (integrations.github in app-config)`,
    );
  }
  return { host: url.host, owner, repo };
}

/**
 * Builds an authenticated Octokit for one repository (or organisation) from Backstage's
 * GitHub integration: API base URL from `integrations.github[host].apiBaseUrl`,
 * token from the credentials provider (GitHub App installation or token).
 * Tokens are short-lived for Apps: build a client per task, not per process.
 */
export async function createGithubClient(
  target: GithubRepo,
  deps: GithubClientDeps,
): Promise<GithubClient> {
  const integration = deps.integrations.github.byHost(target.host);
  if (!integration) {
    throw new InputError(
      `No GitHub integration is configured for host "${target.host}" (integrations.github in app-config)`,
    );
  }
  const provider =
    deps.credentialsProvider ??
    DefaultGithubCredentialsProvider.fromIntegrations(deps.integrations);
  const url = `https://${target.host}/${encodeURIComponent(target.owner)}${target.repo ? `/${encodeURIComponent(target.repo)}` : ''}`;
  const { token } = await provider.getCredentials({ url });
  if (!token) {
    throw new InputError(
      `No GitHub credentials for ${url}: configure a token or a GitHub App for ${target.host} under integrations.github`,
    );
  }
  const maxRetries = deps.maxRateLimitRetries ?? 2;
  const logger = deps.logger;
  const throttle: ThrottlingOptions = {
    onRateLimit: (retryAfter, options, _octokit, retryCount) => {
      logger?.warn(
        `GitHub rate limit on ${options.method} ${options.url}; retry ${retryCount + 1} after ${retryAfter}s`,
      );
      return retryCount < maxRetries;
    },
    onSecondaryRateLimit: (retryAfter, options, _octokit, retryCount) => {
      logger?.warn(
        `GitHub secondary rate limit on ${options.method} ${options.url}; retry after ${retryAfter}s`,
      );
      return retryCount < maxRetries;
    },
  };
  const extra = deps.octokitOptions ?? {};
  const retryOptions = {
    doNotRetry: GITHUB_DO_NOT_RETRY,
    ...(deps.retry?.retries !== undefined
      ? { retries: deps.retry.retries }
      : {}),
    ...(deps.retry?.retryAfterBaseValue !== undefined
      ? { retryAfterBaseValue: deps.retry.retryAfterBaseValue }
      : {}),
  };
  if (deps.rateLimitRetryAfterBaseValue !== undefined) {
    (
      throttle as ThrottlingOptions & { retryAfterBaseValue?: number }
    ).retryAfterBaseValue = deps.rateLimitRetryAfterBaseValue;
  }
  const GithubOctokit = githubOctokit();
  const octokit = new GithubOctokit({
    auth: token,
    baseUrl: integration.config.apiBaseUrl,
    userAgent: 'backstage-scaffolder-tensorflow',
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => logger?.warn(message),
      error: (message: string) => logger?.error(message),
    },
    ...extra,
    retry: { ...retryOptions, ...((extra.retry as object | undefined) ?? {}) },
    throttle: {
      ...throttle,
      ...((extra.throttle as object | undefined) ?? {}),
    } as ThrottlingOptions,
  });
  return describeGithubErrors(octokit);
}

/** A file's text on a branch, or undefined when the file (or the repository) is not there. */
export async function readRepositoryFile(
  octokit: GithubClient,
  target: { owner: string; repo: string; path: string; ref?: string },
): Promise<string | undefined> {
  try {
    const { data } = await octokit.rest.repos.getContent(target);
    if (
      Array.isArray(data) ||
      data.type !== 'file' ||
      typeof (data as { content?: unknown }).content !== 'string'
    )
      return undefined;
    return Buffer.from(
      (data as { content: string }).content,
      'base64',
    ).toString('utf8');
  } catch (error) {
    if ((error as { status?: unknown }).status === 404) return undefined;
    throw error;
  }
}
