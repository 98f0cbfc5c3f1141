/**
 * Copies a model from a URL into a local folder through Backstage's UrlReader only, reading no
 * more than the limits allow: model.json first (capped), then its manifest and inputs are checked,
 * then exactly the shards it lists, each resolved inside the model's folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  resolveSafeChildPath,
  type UrlReaderService,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  formatBytes,
  SmokeLimitError,
  type SmokeLimits,
} from '../../smoke/limits';
import {
  ModelRefusedError,
  resolveWeightPath,
  resolveWeightUrl,
} from '../../smoke/modelfs';
import {
  checkGroupBytes,
  checkInputBytes,
  checkManifest,
  declaredInputs,
  groupBytesProblem,
} from '../../smoke/preflight';
import { redactError, redactUrl } from '../../smoke/redact';
import type { ExplicitInputs } from '../../smoke/types';

export interface FetchModelOptions {
  limits: SmokeLimits;
  signal?: AbortSignal;
  inputs?: ExplicitInputs;
}

/** Reads a URL, at most `maxBytes` (more is refused by `tooLong` without buffering the rest). */
async function readCapped(
  urlReader: UrlReaderService,
  url: string,
  maxBytes: number,
  tooLong: (atLeast: number) => Error,
  signal?: AbortSignal,
): Promise<Buffer> {
  const res = await urlReader.readUrl(url, { signal: signal as never });
  if (!res.stream) {
    const buf = await res.buffer();
    if (buf.length > maxBytes) throw tooLong(buf.length);
    return buf;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = res.stream();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLong(size);
      chunks.push(chunk);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, size);
}

/** `file` is already resolved inside the fresh target folder; 'wx' never writes through an existing file or link. */
async function write(file: string, data: Buffer) {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, data, { flag: 'wx' });
}

/**
 * Copies the model at `url` into `targetDir`: a model.json URL (plus its shards, next to it), or
 * any other URL as a tree (readTree), both within the limits. Messages never carry the URL's query.
 */
export async function fetchModelFromUrl(
  urlReader: UrlReaderService,
  url: string,
  targetDir: string,
  options: FetchModelOptions,
): Promise<void> {
  try {
    await fetchInto(urlReader, url, path.resolve(targetDir), options);
  } catch (e) {
    throw redactError(e);
  }
}

async function fetchInto(
  urlReader: UrlReaderService,
  url: string,
  targetDir: string,
  { limits, signal, inputs }: FetchModelOptions,
): Promise<void> {
  const shown = redactUrl(url);
  if (!new URL(url).pathname.endsWith('.json')) {
    await fetchTree(urlReader, url, targetDir, limits, signal);
    return;
  }
  const buf = await readCapped(
    urlReader,
    url,
    limits.maxModelJsonBytes,
    n =>
      new SmokeLimitError(
        'maxModelJsonBytes',
        `${shown} is at least ${formatBytes(n)}`,
        limits.maxModelJsonBytes,
      ),
    signal,
  );
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new InputError(`modelUrl: ${shown} is not a JSON model.json`);
  }
  // Refuse before reading further: shard count, declared weight bytes, input tensor bytes.
  const manifest = checkManifest(modelJson, limits);
  checkInputBytes(declaredInputs(modelJson, inputs), limits.maxInputBytes);
  await write(path.join(targetDir, 'model.json'), buf);
  for (const [gi, group] of manifest.groups.entries()) {
    let actual = 0;
    for (const p of group.paths) {
      const shardUrl = resolveWeightUrl(url, p);
      const file = resolveWeightPath(targetDir, p);
      const before = actual;
      const left = (group.declaredBytes ?? limits.maxWeightBytes) - before;
      const data = await readCapped(
        urlReader,
        shardUrl,
        left,
        n =>
          groupBytesProblem(group, gi, before + n, true) ??
          new SmokeLimitError(
            'maxWeightBytes',
            `the weight files are at least ${formatBytes(before + n)}`,
            limits.maxWeightBytes,
          ),
        signal,
      );
      actual += data.length;
      await write(file, data);
    }
    checkGroupBytes(group, gi, actual);
  }
}

async function fetchTree(
  urlReader: UrlReaderService,
  url: string,
  targetDir: string,
  limits: SmokeLimits,
  signal?: AbortSignal,
): Promise<void> {
  const tree = await urlReader.readTree(url, { signal: signal as never });
  const files = await tree.files();
  const maxFiles = limits.maxShards + 16;
  if (files.length > maxFiles)
    throw new SmokeLimitError(
      'maxShards',
      `the model folder at ${redactUrl(url)} holds ${files.length} files`,
      limits.maxShards,
    );
  const maxBytes = limits.maxWeightBytes + limits.maxModelJsonBytes;
  let total = 0;
  for (const f of files) {
    const segments = f.path.split('/');
    if (
      !f.path ||
      f.path.startsWith('/') ||
      f.path.includes('\\') ||
      segments.some(s => s === '..' || s === '')
    ) {
      throw new ModelRefusedError(
        `the model folder holds a file named ${JSON.stringify(f.path.slice(0, 120))}, outside the folder`,
      );
    }
    const data = await f.content();
    total += data.length;
    if (total > maxBytes)
      throw new SmokeLimitError(
        'maxWeightBytes',
        `the model folder at ${redactUrl(url)} holds more than ${formatBytes(total)}`,
        limits.maxWeightBytes,
      );
    await write(resolveSafeChildPath(targetDir, f.path), data);
  }
}
