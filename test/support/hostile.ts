/**
 * The bad-input corpus: hostile and malformed values per category, plus the checks the
 * table-driven test (test/hostileInputs.test.ts) applies to every refusal:
 * a clear error naming the field, and no side effect (files, git refs, catalog, audit, GitHub).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Validator } from 'jsonschema';

export type Category =
  | 'template'
  | 'traversal'
  | 'metadata-url'
  | 'oversized'
  | 'wrong-type'
  | 'unicode'
  | 'owner-kind'
  | 'grants';

export const CATEGORIES: Category[] = [
  'template',
  'traversal',
  'metadata-url',
  'oversized',
  'wrong-type',
  'unicode',
  'owner-kind',
  'grants',
];

export const TEMPLATE = [
  '${{ secrets.x }}',
  "{{constructor.constructor('return process')()}}",
  '{% raw %}x{% endraw %}',
];
export const TRAVERSAL = [
  '../../etc/passwd',
  '/etc/passwd',
  '..\\..\\etc\\passwd',
  '%2e%2e/%2e%2e/etc/passwd',
];
export const METADATA_URLS = [
  'http://169.254.169.254/latest/meta-data/',
  'http://[fd00:ec2::254]/',
  'http://metadata.google.internal/',
  'file:///etc/passwd',
];
export const OVERSIZED = 'a'.repeat(10_000);
/** Values of the wrong type where a string goes. */
export const NOT_STRINGS: unknown[] = [
  42,
  ['fraud-detector'],
  { name: 'fraud-detector' },
];
/** Values of the wrong type where a whole positive number goes. */
export const BAD_COUNTS: unknown[] = [-1, 1.5, '3', [2]];
/** Look-alikes of fraud-detector. */
export const LOOKALIKES = [
  'fraud-d\u0435tector', // Cyrillic ie
  '\uff46\uff52\uff41\uff55\uff44-detector', // full-width "fraud"
  'fraud\u200d-detector', // zero-width joiner
  '\u202efraud-detector', // right-to-left override
];
export const BAD_OWNERS = [
  'component:default/x',
  'user:default/jdoe',
  'group:other-ns/..',
  '',
];
/** Grants: unknown scope, a scope the policy does not let another group have, a non-group ref, junk. */
export const BAD_GRANTS: unknown[] = [
  { 'group:default/risk': ['root'] },
  { 'group:default/risk': ['admin'] },
  { 'user:default/jdoe': ['predict'] },
  { 'component:default/x': ['predict'] },
  { '${{ secrets.x }}': ['predict'] },
  { 'group:default/risk': 'predict' },
  [{ group: 42, scopes: ['predict'] }],
  5,
];

export interface HostileCase {
  category: Category;
  /** Dotted path of the field in the input, e.g. `serving.restUrl`. */
  field: string;
  value: unknown;
  /** What the error message must contain (default: the field path). */
  names?: string | RegExp;
  /** Fields of the base input to drop for this case (e.g. one of two mutually exclusive fields). */
  without?: string[];
}

/** Expands `field` × values into cases. */
export function cases(
  category: Category,
  fields: string[],
  values: unknown[],
  names?: string | RegExp,
): HostileCase[] {
  return fields.flatMap(field =>
    values.map(value => ({ category, field, value, names })),
  );
}

/** A copy of `base` with the dotted `field` set to `value`. */
export function withField<T extends Record<string, unknown>>(
  base: T,
  field: string,
  value: unknown,
): T {
  const out = structuredClone(base) as Record<string, unknown>;
  const keys = field.split('.');
  let node = out;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
  return out as T;
}

export function describeValue(value: unknown): string {
  const s =
    typeof value === 'string'
      ? JSON.stringify(value)
      : (JSON.stringify(value) ?? String(value));
  return s.length > 60 ? `${s.slice(0, 40)}…(${s.length} chars)` : s;
}

const CLEAR_ERRORS = ['InputError', 'NotAllowedError', 'ConflictError'];
/** Words that tell the user what to do (or what is expected instead). */
const ADVICE =
  /\b(use|give|choose|pass|must|ask|remove|only|re-run|lower|include|add|allowed|expected|known scopes|form|at most|such as|e\.g\.|instead|pick|did you mean|available|the model has|one of)\b/i;

/** Why an error is not a clear refusal for `field`, or undefined when it is. */
export function unclear(
  error: unknown,
  names: string | RegExp,
): string | undefined {
  if (!(error instanceof Error)) return `threw a non-Error: ${String(error)}`;
  if (!CLEAR_ERRORS.includes(error.name))
    return `${error.name}: ${error.message.slice(0, 300)}`;
  const named =
    typeof names === 'string'
      ? error.message.includes(names)
      : names.test(error.message);
  if (!named)
    return `message does not name ${String(names)}: ${error.message.slice(0, 300)}`;
  if (!ADVICE.test(error.message))
    return `message does not say what to do: ${error.message.slice(0, 300)}`;
  if (error.message.length > 2000)
    return `message is ${error.message.length} characters long (echoes the input?)`;
  return undefined;
}

/** Every file and folder under `root` with a change signature (folders as 'dir'). */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      const rel = path.relative(root, full);
      if (e.isDirectory()) {
        out[rel] = 'dir';
        walk(full);
      } else if (e.isSymbolicLink()) {
        out[rel] = `link:${fs.readlinkSync(full)}`;
      } else {
        // size, mtime and inode: any write (or replace) changes one of them, without reading git's object store
        const st = fs.statSync(full);
        out[rel] = `${st.size}:${st.mtimeMs}:${st.ino}`;
      }
    }
  };
  walk(root);
  return out;
}

/** `refname objectname` for every ref of every git repository directly under `root` (or `root` itself). */
export function gitRefs(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(root)) return out;
  const repos = fs.existsSync(path.join(root, '.git'))
    ? [root]
    : fs
        .readdirSync(root)
        .map(n => path.join(root, n))
        .filter(d => fs.existsSync(path.join(d, '.git')));
  for (const repo of repos) {
    const refs = execFileSync(
      'git',
      ['for-each-ref', '--format=%(refname) %(objectname)'],
      { cwd: repo, encoding: 'utf8' },
    );
    out[repo] = refs.trim();
  }
  return out;
}

const validator = new Validator();
/** 'schema' when the action's JSON schema (what the scaffolder enforces first) refuses the input, else 'handler'. */
export function schemaLayer(
  schema: unknown,
  input: unknown,
): 'schema' | 'handler' {
  return validator.validate(input, schema as any).errors.length > 0
    ? 'schema'
    : 'handler';
}
