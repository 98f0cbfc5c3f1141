import fs from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeOptions } from 'handlebars';
import { InputError, ConflictError } from '@backstage/errors';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';
import { lazy } from '../shared/lazy';

/** A file of a rendered skeleton, relative to the target folder. */
export interface RenderedFile {
  path: string;
  content: Buffer;
  executable: boolean;
}

const TEMPLATE_SUFFIX = '.hbs';

/**
 * An isolated Handlebars environment: strict (a missing value is an error), no HTML
 * escaping (we render code and YAML), only the built-in block helpers, and no access
 * to prototype properties. Values are passed as data and never compiled.
 */
const handlebars = lazy(() => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const instance = (
    require('handlebars') as typeof import('handlebars')
  ).create();
  // `json` quotes a value as a JSON literal, which is also a valid YAML and Python string:
  // skeletons use it wherever a value lands in structured text, so a value can never add keys.
  instance.registerHelper('json', (value: unknown) =>
    JSON.stringify(value ?? null),
  );
  instance.unregisterHelper('log');
  instance.unregisterHelper('lookup');
  return instance;
});
const compileOptions: CompileOptions = {
  strict: true,
  noEscape: true,
  knownHelpers: {
    if: true,
    unless: true,
    each: true,
    with: true,
    json: true,
    log: false,
    lookup: false,
  },
  knownHelpersOnly: true,
};
const runtimeOptions: RuntimeOptions = {
  allowProtoMethodsByDefault: false,
  allowProtoPropertiesByDefault: false,
};

export function renderString(
  source: string,
  values: JsonObject,
  where: string,
): string {
  try {
    return handlebars().compile(source, compileOptions)(values, runtimeOptions);
  } catch (e) {
    const message = (e as Error).message;
    const missing = /^"?([^"\s]+)"? not defined in/.exec(message);
    if (missing) {
      throw new InputError(
        `${where} uses the value "${missing[1]}", which was not given: add "${missing[1]}" to the action's "values" input`,
      );
    }
    throw new InputError(
      `${where} could not be rendered: ${message.split('\n')[0]}`,
    );
  }
}

/** Renders one relative path, segment by segment, refusing anything that would leave the target. */
export function renderPath(relativePath: string, values: JsonObject): string {
  const segments = relativePath.split(/[\\/]/).map(segment => {
    const rendered = renderString(
      segment,
      values,
      `the file name "${relativePath}"`,
    );
    if (
      rendered === '' ||
      rendered === '.' ||
      rendered === '..' ||
      /[\\/\0]/.test(rendered)
    ) {
      throw new InputError(
        `the file name "${relativePath}" renders to "${rendered}", which is not a plain file or folder name: values used in file names must not contain "/", "\\" or be "." or ".."`,
      );
    }
    return rendered;
  });
  return segments.join('/');
}

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, prefix), {
    withFileTypes: true,
  });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await walk(dir, rel)));
    else if (entry.isFile()) files.push(rel);
    // symlinks and other entries are never followed: a skeleton cannot point outside itself
  }
  return files;
}

/** Renders a skeleton folder in memory: `.hbs` files are templates, everything else is copied byte for byte. */
export async function renderSkeleton(
  skeletonDir: string,
  values: JsonObject,
): Promise<RenderedFile[]> {
  const files: RenderedFile[] = [];
  for (const rel of await walk(skeletonDir)) {
    const source = path.join(skeletonDir, rel);
    const stat = await fs.stat(source);
    const executable = (stat.mode & 0o111) !== 0;
    if (rel.endsWith(TEMPLATE_SUFFIX)) {
      const target = renderPath(rel.slice(0, -TEMPLATE_SUFFIX.length), values);
      const text = renderString(
        await fs.readFile(source, 'utf8'),
        values,
        `the file "${rel}"`,
      );
      files.push({
        path: target,
        content: Buffer.from(text, 'utf8'),
        executable,
      });
    } else {
      files.push({
        path: renderPath(rel, values),
        content: await fs.readFile(source),
        executable,
      });
    }
  }
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) {
      throw new InputError(
        `two skeleton files render to the same path "${file.path}"; give the values distinct names`,
      );
    }
    seen.add(file.path);
  }
  return files;
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Writes rendered files below `targetDir`. All checks run before the first write, so a
 * refusal leaves nothing behind. Files that already hold identical content are not
 * conflicts (a retried step converges).
 */
export async function writeRendered(
  targetDir: string,
  files: RenderedFile[],
  options: { overwrite: boolean },
): Promise<{ written: string[]; unchanged: string[] }> {
  const plan = [];
  const conflicts: string[] = [];
  for (const file of files) {
    const absolute = resolveSafeChildPath(targetDir, file.path);
    const existing = await readIfExists(absolute);
    const unchanged = existing !== undefined && existing.equals(file.content);
    if (existing !== undefined && !unchanged && !options.overwrite)
      conflicts.push(file.path);
    plan.push({ file, absolute, unchanged });
  }
  if (conflicts.length > 0) {
    throw new ConflictError(
      `these files already exist and would be overwritten: ${conflicts.join(', ')}; choose another targetPath or set overwrite: true`,
    );
  }
  const written: string[] = [];
  const unchanged: string[] = [];
  for (const { file, absolute, unchanged: same } of plan) {
    if (same) {
      unchanged.push(file.path);
      continue;
    }
    await fs.mkdir(path.dirname(absolute), { recursive: true });
    await fs.writeFile(absolute, file.content, {
      mode: file.executable ? 0o755 : 0o644,
    });
    written.push(file.path);
  }
  return { written, unchanged };
}

export async function listSkeletons(skeletonsDir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(skeletonsDir, { withFileTypes: true });
    return entries
      .filter(e => e.isDirectory())
      .map(e => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Finds the skeleton folder: a plain name is looked up under `skeletonsDir`; anything
 * with a path separator or a leading dot is a workspace-relative path.
 */
export async function resolveSkeleton(
  skeleton: string,
  options: { skeletonsDir: string; workspacePath: string },
): Promise<string> {
  const isPath = /[\\/]/.test(skeleton) || skeleton.startsWith('.');
  if (isPath) {
    let dir: string;
    try {
      dir = resolveSafeChildPath(options.workspacePath, skeleton);
    } catch {
      throw new InputError(
        `skeleton "${skeleton.slice(0, 80)}" is outside the workspace; give a path inside it or a skeleton name`,
      );
    }
    const stat = await fs.stat(dir).catch(() => undefined);
    if (!stat?.isDirectory()) {
      throw new InputError(
        `skeleton "${skeleton.slice(0, 80)}" is not a folder in the workspace; give a workspace folder or the name of a packaged skeleton`,
      );
    }
    return dir;
  }
  const available = await listSkeletons(options.skeletonsDir);
  if (!available.includes(skeleton)) {
    throw new InputError(
      `unknown skeleton "${skeleton.slice(0, 80)}"; available skeletons: ${available.join(', ') || '(none)'}`,
    );
  }
  return path.join(options.skeletonsDir, skeleton);
}
