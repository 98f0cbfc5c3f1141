import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';

/* eslint-disable no-control-regex -- control and invisible characters are refused on purpose */
const INVISIBLE_CHARACTERS =
  /[\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;
/* eslint-enable no-control-regex */

/** How a value is shown in an error message: at most 80 characters, JSON-quoted. */

export function shown(value: unknown): string {
  const s =
    typeof value === 'string'
      ? value
      : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

/** A string of at most `max` characters without control characters; else an InputError naming the field. */
export function boundedString(
  field: string,
  value: unknown,
  max: number,
  example: string,
): string {
  if (typeof value !== 'string') {
    throw new InputError(
      `${field} must be a string, got ${Array.isArray(value) ? 'a list' : typeof value}; give e.g. ${JSON.stringify(example)}`,
    );
  }
  if (value.length > max)
    throw new InputError(
      `${field} is ${value.length} characters long; use at most ${max}, e.g. ${JSON.stringify(example)}`,
    );
  if (INVISIBLE_CHARACTERS.test(value)) {
    throw new InputError(
      `${field} ${shown(value)} contains control or invisible characters; remove them`,
    );
  }
  return value;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * A workspace-relative path of plain segments (ASCII letters, digits, `.`, `_`, `-`), resolved
 * inside `root`: refuses absolute paths, `..`, backslashes, percent-encoding, template text and
 * look-alike characters, with an InputError naming the field.
 */
export function workspacePath(
  field: string,
  root: string,
  value: unknown,
  example: string,
): string {
  const rel = boundedString(field, value, 1024, example);
  const segments = rel
    .split('/')
    .filter((s, i, all) => !(s === '.' || (s === '' && i === all.length - 1)));
  if (rel.startsWith('/') || segments.includes('..')) {
    throw new InputError(
      `${field} ${shown(rel)} is outside the workspace; use a relative path such as ${JSON.stringify(example)}`,
    );
  }
  if (rel === '' || segments.some(s => !SEGMENT.test(s))) {
    throw new InputError(
      `${field} ${shown(rel)} is not a plain workspace-relative path: use ASCII letters, digits, ".", "_" and "-" in "/"-separated folder names, no "..", e.g. ${JSON.stringify(example)}`,
    );
  }
  try {
    return resolveSafeChildPath(root, rel);
  } catch {
    throw new InputError(
      `${field} ${shown(rel)} is outside the workspace; use a relative path such as ${JSON.stringify(example)}`,
    );
  }
}
