/**
 * Reading only the model: weight paths from model.json are URL-decoded, normalised and resolved
 * against the model folder (nothing outside it, no links out of it), and files are opened without
 * following a link swapped in at the last moment (O_NOFOLLOW on the resolved path).
 */
import fs from 'node:fs';
import path from 'node:path';

/** model.json names a file that is not inside the model folder, or the files disagree with it. */
export class ModelRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelRefusedError';
  }
}

const shown = (p: unknown) => JSON.stringify(String(p).slice(0, 120));

/**
 * A weight path as the segments of a plain relative path, after URL-decoding (tfjs resolves these
 * paths as URLs, so `%2e%2e/x` means `../x`). Refuses anything that could leave the model folder.
 */
export function weightPathSegments(p: unknown): string[] {
  const refuse = (why: string): never => {
    throw new ModelRefusedError(
      `model.json lists weight file ${shown(p)}, which ${why}; weight paths must be plain relative file names inside the model folder`,
    );
  };
  if (typeof p !== 'string' || p === '') return refuse('is not a file name');
  if (p.length > 1024) refuse('is longer than 1024 characters');
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('//'))
    refuse('is an absolute URL');
  if (/[?#]/.test(p)) refuse('has a query or fragment');
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return refuse('is not valid URL encoding');
  }
  // Still encoded after one decoding: a double-encoded name a server might decode again.
  if (/%[0-9a-f]{2}/i.test(decoded)) refuse('is encoded twice');
  if (/[\\\0]/.test(decoded) || decoded.startsWith('/'))
    refuse('is an absolute path or has a backslash');
  const segments = decoded.split('/');
  if (segments.some(s => s === '' || s === '.' || s === '..'))
    refuse('has an empty, "." or ".." segment');
  return segments;
}

/** The local file of a weight path; throws unless it is inside `dir`. */
export function resolveWeightPath(dir: string, p: unknown): string {
  const segments = weightPathSegments(p);
  const base = path.resolve(dir);
  const file = path.resolve(base, ...segments);
  const rel = path.relative(base, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel))
    throw new ModelRefusedError(
      `weight file ${shown(p)} resolves outside the model folder`,
    );
  return file;
}

/** The URL of a weight path next to `modelJsonUrl` (its query and fragment are not carried over). */
export function resolveWeightUrl(modelJsonUrl: string, p: unknown): string {
  const segments = weightPathSegments(p);
  const folder = new URL('.', modelJsonUrl);
  folder.search = '';
  folder.hash = '';
  const url = new URL(segments.map(encodeURIComponent).join('/'), folder);
  if (
    url.origin !== folder.origin ||
    !url.pathname.startsWith(folder.pathname) ||
    url.pathname === folder.pathname
  ) {
    throw new ModelRefusedError(
      `weight file ${shown(p)} resolves outside the model folder`,
    );
  }
  return url.toString();
}

/** `child` is `parent` or below it (both already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The real path of `file`, which must exist and (following every link) stay inside the real path
 * of `dir`. A link to elsewhere in the model folder is fine; a link out of it is refused.
 */
export function realPathInside(
  dir: string,
  file: string,
  what: string,
): string {
  const realDir = fs.realpathSync(dir);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // A dangling link is a link to somewhere we will not look.
      if (fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink())
        throw new ModelRefusedError(
          `${what} is a link to a file outside the model folder`,
        );
      throw new ModelRefusedError(`${what} is missing from the model folder`);
    }
    throw e;
  }
  if (!isInside(realDir, real))
    throw new ModelRefusedError(
      `${what} is a link to a file outside the model folder`,
    );
  return real;
}

const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Size of a regular file inside `dir` (links out of the folder refused). */
export function fileSizeInside(
  dir: string,
  file: string,
  what: string,
): number {
  const real = realPathInside(dir, file, what);
  const st = fs.lstatSync(real);
  if (!st.isFile())
    throw new ModelRefusedError(`${what} is not a regular file`);
  return st.size;
}

/**
 * Reads a regular file inside `dir`: at most `maxBytes` (a longer file is refused by `tooLong`,
 * before it is read).
 */
export async function readInside(
  dir: string,
  file: string,
  what: string,
  maxBytes: number,
  tooLong: (size: number) => Error,
): Promise<Buffer> {
  const real = realPathInside(dir, file, what);
  const fh = await fs.promises.open(real, fs.constants.O_RDONLY | NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new ModelRefusedError(`${what} is not a regular file`);
    if (st.size > maxBytes) throw tooLong(st.size);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const { bytesRead } = await fh.read(buf, off, st.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    if (off !== st.size)
      throw new ModelRefusedError(`${what} changed while it was read`);
    return buf;
  } finally {
    await fh.close();
  }
}

export function readInsideSync(
  dir: string,
  file: string,
  what: string,
  maxBytes: number,
  tooLong: (size: number) => Error,
): Buffer {
  const real = realPathInside(dir, file, what);
  const fd = fs.openSync(real, fs.constants.O_RDONLY | NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile())
      throw new ModelRefusedError(`${what} is not a regular file`);
    if (st.size > maxBytes) throw tooLong(st.size);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = fs.readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    if (off !== st.size)
      throw new ModelRefusedError(`${what} changed while it was read`);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}
