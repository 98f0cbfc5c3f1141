/**
 * Rebuilds test/contract/github-subset.json: the part of GitHub's official OpenAPI
 * description (@octokit/openapi, generated/api.github.com.json) that our code calls.
 *
 * Keeps exactly the paths listed in test/contract/github-paths.txt plus every
 * `#/components/...` they reference, transitively. Output is deterministic (sorted
 * keys), so a rebuild from the same @octokit/openapi version is byte-for-byte equal.
 *
 * @octokit/openapi is NOT a dependency (385 MB unpacked). Install it temporarily:
 *   flock /tmp/npm.lock sh -c 'npm install --no-save @octokit/openapi@23.0.2 && npx tsx test/contract/buildGithubSubset.ts'
 * or point GITHUB_OPENAPI_SPEC at an extracted api.github.com.json.
 *
 * Usage: npx tsx test/contract/buildGithubSubset.ts [--check]
 *   --check  exit 1 if the committed subset differs from what would be built.
 */
import fs from 'node:fs';
import path from 'node:path';

const here = __dirname;
const PATHS_FILE = path.join(here, 'github-paths.txt');
const SUBSET_FILE = path.join(here, 'github-subset.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function readPathList(file = PATHS_FILE): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'));
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort())
      out[key] = sortKeys(value[key]);
    return out;
  }
  return value;
}

/** Pure: the reduced description for the given paths. Throws on a path the description lacks. */
export function buildSubset(
  spec: { [key: string]: any },
  paths: string[],
): Json {
  const missing = paths.filter(p => !spec.paths?.[p]);
  if (missing.length > 0) {
    throw new Error(
      `paths not in the GitHub description: ${missing.join(', ')}`,
    );
  }
  const keptPaths: { [key: string]: Json } = {};
  for (const p of paths) keptPaths[p] = spec.paths[p];

  const components: { [section: string]: { [name: string]: Json } } = {};
  const seen = new Set<string>();
  const queue: Json[] = [keptPaths];
  while (queue.length > 0) {
    const node = queue.pop()!;
    if (Array.isArray(node)) {
      queue.push(...node);
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          const match = /^#\/components\/([^/]+)\/(.+)$/.exec(value);
          if (!match) throw new Error(`unsupported $ref ${value}`);
          const [, section, name] = match;
          if (seen.has(value)) continue;
          seen.add(value);
          const target = spec.components?.[section]?.[name];
          if (target === undefined) throw new Error(`dangling $ref ${value}`);
          (components[section] ??= {})[name] = target;
          queue.push(target);
        } else {
          queue.push(value as Json);
        }
      }
    }
  }
  const version = spec.info?.version ?? 'unknown';
  return sortKeys({
    openapi: spec.openapi,
    info: {
      ...spec.info,
      description: `Reduced subset of GitHub's REST API description (${version}) for contract tests: paths from test/contract/github-paths.txt. Rebuild with test/contract/buildGithubSubset.ts.`,
    },
    servers: spec.servers ?? [],
    paths: keptPaths,
    components: components as Json,
  });
}

function loadSpec(): { [key: string]: any } {
  const file =
    process.env.GITHUB_OPENAPI_SPEC ??
    require.resolve('@octokit/openapi/generated/api.github.com.json');
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  let spec;
  try {
    spec = loadSpec();
  } catch (e) {
    console.error(
      `cannot read GitHub's description: install @octokit/openapi temporarily (npm install --no-save) or set GITHUB_OPENAPI_SPEC (${(e as Error).message})`,
    );
    process.exit(2);
  }
  const text = `${JSON.stringify(buildSubset(spec, readPathList()), null, 1)}\n`;
  if (check) {
    const current = fs.existsSync(SUBSET_FILE)
      ? fs.readFileSync(SUBSET_FILE, 'utf8')
      : '';
    if (current !== text) {
      console.error(`${SUBSET_FILE} is out of date; rebuild it`);
      process.exit(1);
    }
    console.log('github-subset.json is up to date');
  } else {
    fs.writeFileSync(SUBSET_FILE, text);
    console.log(
      `wrote ${SUBSET_FILE} (${text.length} bytes, ${readPathList().length} paths)`,
    );
  }
}
