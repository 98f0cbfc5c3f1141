import type { Config } from '@backstage/config';
import path from 'node:path';

/** Parsed `tensorflow.gitops` section. */
export interface GitOpsConfig {
  target: 'local' | 'github';
  /** Path layout of manifest files; placeholders {namespace} {project} {area} {kind} {name}. */
  pathTemplate: string;
  local: {
    /** Repository folder (created if missing); relative paths resolve from the backend's cwd. */
    path: string;
    /** Branch new project branches fork from. */
    baseBranch: string;
  };
  github?: {
    /** `github.com?owner=<org>&repo=<repo>` */
    repoUrl: string;
    baseBranch: string;
    labels: string[];
  };
}

export const DEFAULT_PATH_TEMPLATE =
  'projects/{namespace}/{area}/{kind}-{name}.yaml';
const PLACEHOLDERS = ['namespace', 'project', 'area', 'kind', 'name'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

function fail(key: string, message: string): never {
  throw new Error(
    `Invalid configuration at tensorflow.gitops.${key}: ${message}`,
  );
}

export function assertPathTemplate(key: string, template: string): string {
  const used = [...template.matchAll(/\{([^}]*)\}/g)].map(m => m[1]);
  const unknown = used.filter(
    u => !(PLACEHOLDERS as readonly string[]).includes(u),
  );
  if (unknown.length > 0) {
    fail(
      key,
      `unknown placeholder(s) ${unknown.map(u => `{${u}}`).join(', ')}; use ${PLACEHOLDERS.map(p => `{${p}}`).join(' ')}`,
    );
  }
  for (const required of ['namespace', 'area', 'kind', 'name']) {
    if (!used.includes(required))
      fail(
        key,
        `"${template}" must contain {${required}} so every resource gets its own file`,
      );
  }
  if (
    template.startsWith('/') ||
    template.split('/').some(seg => seg === '..' || seg === '.' || seg === '')
  ) {
    fail(
      key,
      `"${template}" must be a relative path without "." or ".." segments`,
    );
  }
  return template;
}

/** Reads `tensorflow.gitops`; every value has a default, so no config at all works (local target). */
export function readGitOpsConfig(config: Config): GitOpsConfig {
  const section = config.getOptionalConfig('tensorflow.gitops');
  const target = section?.getOptionalString('target') ?? 'local';
  if (target !== 'local' && target !== 'github')
    fail('target', `"${target}" must be "local" or "github"`);
  const githubTemplate =
    target === 'github'
      ? section?.getOptionalString('github.pathTemplate')
      : undefined;
  const pathTemplate = assertPathTemplate(
    githubTemplate !== undefined ? 'github.pathTemplate' : 'pathTemplate',
    githubTemplate ??
      section?.getOptionalString('pathTemplate') ??
      DEFAULT_PATH_TEMPLATE,
  );
  const local = {
    path: section?.getOptionalString('local.path') ?? '.data/gitops',
    baseBranch: section?.getOptionalString('local.baseBranch') ?? 'main',
  };
  if (local.path.trim() === '') fail('local.path', 'must not be empty');
  let github: GitOpsConfig['github'];
  const gh = section?.getOptionalConfig('github');
  if (gh) {
    const repoUrl = gh.getOptionalString('repoUrl');
    if (repoUrl !== undefined) {
      let parsed: URL;
      try {
        parsed = new URL(`https://${repoUrl}`);
      } catch {
        fail(
          'github.repoUrl',
          `"${repoUrl}" must look like github.com?owner=<org>&repo=<repo>`,
        );
      }
      if (
        !parsed.searchParams.get('owner') ||
        !parsed.searchParams.get('repo')
      ) {
        fail(
          'github.repoUrl',
          `"${repoUrl}" must name owner and repo: github.com?owner=<org>&repo=<repo>`,
        );
      }
      github = {
        repoUrl,
        baseBranch: gh.getOptionalString('baseBranch') ?? 'main',
        labels: gh.getOptionalStringArray('labels') ?? [
          'gitops',
          'model-serving',
        ],
      };
    }
  }
  if (target === 'github' && !github)
    fail('github.repoUrl', 'is required when target is "github"');
  return { target, pathTemplate, local, github };
}

/** Renders one file path from the layout; every value must be a single safe path segment. */
export function renderGitOpsPath(
  template: string,
  values: Record<Placeholder, string>,
): string {
  const out = template.replace(/\{([a-z]+)\}/g, (_, key: Placeholder) => {
    const value = values[key];
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value ?? '')) {
      throw new Error(
        `GitOps path value {${key}} "${value}" is not a lowercase DNS-style name`,
      );
    }
    return value;
  });
  const normal = path.posix.normalize(out);
  if (
    normal !== out ||
    normal.startsWith('../') ||
    path.posix.isAbsolute(normal)
  ) {
    throw new Error(`GitOps path "${out}" escapes the repository`);
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A pattern matching every path the layout yields for one namespace and area (any kind/name). */
export function ownedPathPattern(
  template: string,
  values: { namespace: string; project: string; area: string },
): RegExp {
  const source = template
    .split(/(\{[a-z]+\})/)
    .map(part => {
      const m = /^\{([a-z]+)\}$/.exec(part);
      if (!m) return escapeRegExp(part);
      const key = m[1] as Placeholder;
      if (key === 'kind' || key === 'name') return '[^/]+';
      return escapeRegExp(values[key]);
    })
    .join('');
  return new RegExp(`^${source}$`);
}
