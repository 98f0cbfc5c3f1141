/**
 * The catalog side of tensorflow:catalog:register: refuse to take over entities another location or
 * owner holds, add (or refresh) the location, and wait until the catalog shows this task's entities.
 */
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  ANNOTATION_ORIGIN_LOCATION,
  RELATION_OWNED_BY,
  type Entity,
} from '@backstage/catalog-model';
import { ConflictError } from '@backstage/errors';
import {
  locationSpecToMetadataName,
  type CatalogService,
} from '@backstage/plugin-catalog-node';
import type { CatalogLocationSpec } from '../repository/types';
import { ANNOTATIONS, type BuiltEntities } from './entities';

export function isConflict(error: unknown): boolean {
  const e = error as {
    name?: string;
    statusCode?: number;
    response?: { status?: number };
    body?: { error?: { name?: string } };
  };
  return (
    e?.name === 'ConflictError' ||
    e?.response?.status === 409 ||
    e?.statusCode === 409 ||
    e?.body?.error?.name === 'ConflictError'
  );
}

/**
 * Adds the location; when it already exists (a re-run), refreshes it instead.
 * Resolves true when it existed.
 */
export async function addOrRefreshLocation(
  catalog: CatalogService,
  location: CatalogLocationSpec,
  credentials: BackstageCredentials,
): Promise<boolean> {
  try {
    await catalog.addLocation(
      { type: location.type, target: location.target },
      { credentials },
    );
    return false;
  } catch (error) {
    if (!isConflict(error)) throw error;
    await catalog.refreshEntity(
      `location:default/${locationSpecToMetadataName(location)}`,
      { credentials },
    );
    return true;
  }
}

async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('cancelled'));
      return;
    }
    let timer: NodeJS.Timeout | undefined = undefined;
    function onAbort() {
      clearTimeout(timer);
      reject(new Error('cancelled'));
    }
    timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface WaitOptions {
  catalog: CatalogService;
  credentials: BackstageCredentials;
  built: BuiltEntities;
  origin: string;
  owner: string;
  timeoutSeconds: number;
  intervalMs: number;
  signal?: AbortSignal;
}

/** Polls until every entity is readable from our location, at this task's version, with its ownedBy relation. */
export async function waitForEntities(o: WaitOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  const pending = new Map(
    o.built.entities.map(e => [
      `${e.kind.toLocaleLowerCase('en-US')}:${e.metadata.namespace}/${e.metadata.name}`,
      e.metadata.annotations ?? {},
    ]),
  );
  const ownerLc = o.owner.toLocaleLowerCase('en-US');
  for (;;) {
    for (const [ref, wanted] of [...pending]) {
      const found = await o.catalog.getEntityByRef(ref, {
        credentials: o.credentials,
      });
      const ann = found?.metadata.annotations ?? {};
      const fresh =
        found &&
        ann[ANNOTATION_ORIGIN_LOCATION] === o.origin &&
        ann[ANNOTATIONS.provisionedAt] === wanted[ANNOTATIONS.provisionedAt] &&
        ann[ANNOTATIONS.taskUrl] === wanted[ANNOTATIONS.taskUrl] &&
        (found.relations ?? []).some(
          r =>
            r.type === RELATION_OWNED_BY &&
            r.targetRef.toLocaleLowerCase('en-US') === ownerLc,
        );
      if (fresh) pending.delete(ref);
    }
    if (pending.size === 0) return;
    if (o.signal?.aborted)
      throw new Error(
        'tensorflow:catalog:register was cancelled while waiting for the catalog',
      );
    if (Date.now() >= deadline) {
      throw new Error(
        `the catalog did not show ${[...pending.keys()].join(', ')} from ${o.origin} within ${o.timeoutSeconds}s ` +
          '(tensorflow.catalog.waitTimeoutSeconds). The location is registered; check the catalog processing errors for that location and re-run the task to confirm.',
      );
    }
    try {
      await sleep(
        Math.min(o.intervalMs, Math.max(0, deadline - Date.now())),
        o.signal,
      );
    } catch {
      throw new Error(
        'tensorflow:catalog:register was cancelled while waiting for the catalog',
      );
    }
  }
}

/**
 * Refuses when an entity with one of our refs already comes from another location, or names
 * another owner: ownership never moves silently.
 */
export async function refuseSteal(
  catalog: CatalogService,
  credentials: BackstageCredentials,
  entities: Entity[],
  origin: string,
  owner: string,
): Promise<void> {
  for (const e of entities) {
    const ref = `${e.kind.toLocaleLowerCase('en-US')}:${e.metadata.namespace}/${e.metadata.name}`;
    const existing = await catalog.getEntityByRef(ref, { credentials });
    if (!existing) continue;
    const ownedBy = (existing.relations ?? []).find(
      r => r.type === RELATION_OWNED_BY,
    )?.targetRef;
    if (
      ownedBy &&
      ownedBy.toLocaleLowerCase('en-US') !== owner.toLocaleLowerCase('en-US')
    ) {
      throw new ConflictError(
        `${ref} is owned by ${ownedBy}; refusing to change its owner to ${owner}. Ownership never moves silently: nothing was changed.`,
      );
    }
    const theirs = existing.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION];
    if (theirs !== origin) {
      throw new ConflictError(
        `${ref} already exists in the catalog, registered from ${theirs ?? 'an unknown location'} (owner ${String(
          (existing.spec as { owner?: unknown } | undefined)?.owner ??
            'unknown',
        )}); refusing to take it over from ${origin}. Choose another project name, or unregister that entity first.`,
      );
    }
  }
}
