import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ActionInfo, Issue } from './check';

export const SAMPLE_VALUES = 'sample-values.yaml';
/** Optional: catalog entities a template's dry run needs (e.g. an existing model), loaded by the check's catalog. */
export const SAMPLE_CATALOG = 'sample-catalog.yaml';

async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, body };
}

/** Every action the running scaffolder has (built-ins plus installed modules), with its JSON schemas. */
export async function fetchActions(
  baseUrl: string,
): Promise<Map<string, ActionInfo>> {
  const { status, body } = await getJson(
    `${baseUrl}/api/scaffolder/v2/actions`,
  );
  if (status !== 200 || !Array.isArray(body)) {
    throw new Error(
      `GET /api/scaffolder/v2/actions answered ${status}: ${JSON.stringify(body).slice(0, 300)}`,
    );
  }
  return new Map((body as ActionInfo[]).map(a => [a.id, a]));
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(path.join(dir, prefix), {
    withFileTypes: true,
  })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

export interface DryRunResult {
  issues: Issue[];
  /** Files the template would create (workspace-relative), with their sizes. */
  files: { path: string; size: number; executable: boolean }[];
  log: string[];
  output?: unknown;
}

/**
 * Runs a template through the scaffolder's dry run (POST /api/scaffolder/v2/dry-run), with the
 * template folder uploaded as the dry run's content (as the template editor does) and the
 * sample values stored next to the template.
 */
export async function dryRunTemplate(
  baseUrl: string,
  templateFile: string,
  template: unknown,
): Promise<DryRunResult> {
  const dir = path.dirname(templateFile);
  const valuesFile = path.join(dir, SAMPLE_VALUES);
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  let values: unknown;
  try {
    values = parseYaml(await fs.readFile(valuesFile, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      files: [],
      log: [],
      issues: [
        {
          file: rel(missing ? templateFile : valuesFile),
          line: 1,
          column: 1,
          message: missing
            ? `no ${SAMPLE_VALUES} next to the template, so it cannot be dry-run`
            : `${SAMPLE_VALUES}: ${(e as Error).message}`,
          fix: `create ${rel(valuesFile)} with a value for every required parameter (a YAML mapping: name: value)`,
        },
      ],
    };
  }
  if (!values || typeof values !== 'object' || Array.isArray(values)) {
    return {
      files: [],
      log: [],
      issues: [
        {
          file: rel(valuesFile),
          line: 1,
          column: 1,
          message: `${SAMPLE_VALUES} is not a mapping`,
          fix: 'write it as name: value lines',
        },
      ],
    };
  }
  const directoryContents = [];
  for (const file of await listFiles(dir)) {
    if (file === SAMPLE_VALUES || file === SAMPLE_CATALOG) continue;
    directoryContents.push({
      path: file,
      base64Content: (await fs.readFile(path.join(dir, file))).toString(
        'base64',
      ),
    });
  }
  const { status, body } = await getJson(
    `${baseUrl}/api/scaffolder/v2/dry-run`,
    {
      method: 'POST',
      body: JSON.stringify({ template, values, directoryContents }),
    },
  );
  const log: string[] = Array.isArray(body?.log)
    ? body.log.map((l: any) => String(l?.body?.message ?? ''))
    : [];
  if (status !== 200) {
    const detail = Array.isArray(body?.errors)
      ? body.errors.map((e: any) => e.stack ?? e.message).join('; ')
      : (body?.error?.message ?? JSON.stringify(body).slice(0, 500));
    return {
      files: [],
      log,
      issues: [
        {
          file: rel(
            status === 400 && Array.isArray(body?.errors)
              ? valuesFile
              : templateFile,
          ),
          line: 1,
          column: 1,
          message: `dry run failed (HTTP ${status}): ${detail}`,
          fix: Array.isArray(body?.errors)
            ? `make ${SAMPLE_VALUES} satisfy the parameter pages`
            : "fix the step named in the message; run the template in Backstage's template editor for the full log",
        },
      ],
    };
  }
  const files = (
    body.directoryContents as {
      path: string;
      base64Content: string;
      executable?: boolean;
    }[]
  ).map(f => ({
    path: f.path,
    size: Buffer.from(f.base64Content, 'base64').length,
    executable: Boolean(f.executable),
  }));
  return { issues: [], files, log, output: body.output };
}
