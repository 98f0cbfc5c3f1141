/** Links of the project's catalog entities: the repository, its files, the GitOps change, the scaffolder task. */
import type { EntityLink } from '@backstage/catalog-model';

/** Entity links' `icon` values are keys of Backstage's default app icons (`@backstage/app-defaults` icons). */
export type { EntityLink };

function hostOf(
  url: string,
): { protocol: string; host: string; path: string } | undefined {
  try {
    const u = new URL(url);
    return {
      protocol: u.protocol,
      host: u.hostname.toLocaleLowerCase('en-US'),
      path: u.pathname,
    };
  } catch {
    return undefined;
  }
}

/** github.com, or a GitHub Enterprise host named `github.<domain>`. */
function isGitHubHost(host: string): boolean {
  return host === 'github.com' || host.startsWith('github.');
}

/** The repository's browsable root: GitHub gets the `github` icon, a local git repository (file:) a location pin. */
export function repositoryLink(contentsUrl: string): EntityLink {
  const h = hostOf(contentsUrl);
  if (h && isGitHubHost(h.host))
    return {
      url: contentsUrl,
      title: 'Repository (GitHub)',
      icon: 'github',
      type: 'repository',
    };
  if (h?.protocol === 'file:')
    return {
      url: contentsUrl,
      title: 'Repository (local git)',
      icon: 'kind:location',
      type: 'repository',
    };
  return { url: contentsUrl, title: 'Repository', type: 'repository' };
}

/** URL of one file of the repository, from its contents URL (`…/tree/<branch>` on GitHub, `file://<dir>` locally). */
export function repositoryFileUrl(
  contentsUrl: string,
  file: string,
): string | undefined {
  const h = hostOf(contentsUrl);
  if (!h) return undefined;
  const base = contentsUrl.replace(/\/+$/, '');
  if (isGitHubHost(h.host)) {
    const m = /^(https?:\/\/[^/]+\/[^/]+\/[^/]+)(?:\/tree\/(.+))?$/.exec(base);
    return m ? `${m[1]}/blob/${m[2] ?? 'HEAD'}/${file}` : undefined;
  }
  if (h.protocol === 'file:') return `${base}/${file}`;
  return undefined;
}

/** The GitOps change: a GitHub pull request or commit, or a branch of the local GitOps repository. */
export function gitopsLink(url: string): EntityLink {
  const h = hostOf(url);
  if (h && isGitHubHost(h.host)) {
    return {
      url,
      title: githubChangeTitle(h.path),
      icon: 'github',
      type: 'gitops',
    };
  }
  if (h?.protocol === 'file:')
    return {
      url,
      title: 'GitOps change (local git)',
      icon: 'kind:location',
      type: 'gitops',
    };
  return { url, title: 'GitOps change', type: 'gitops' };
}

function githubChangeTitle(urlPath: string): string {
  if (/\/pull\/\d+/.test(urlPath)) return 'GitOps pull request';
  if (/\/commit\/[0-9a-f]+/.test(urlPath)) return 'GitOps commit';
  return 'GitOps change';
}

export function taskLink(taskUrl: string): EntityLink {
  return {
    url: taskUrl,
    title: 'Scaffolder task',
    icon: 'scaffolder',
    type: 'scaffolder-task',
  };
}
