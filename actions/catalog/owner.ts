import {
  parseEntityRef,
  stringifyEntityRef,
  type Entity,
} from '@backstage/catalog-model';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { InputError } from '@backstage/errors';

/** Classic edit distance (insert/delete/substitute = 1). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j] + 1,
        cur[j - 1] + 1,
        prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Up to `limit` refs closest to `wanted` (by name), close enough to be a plausible typo. */
export function nearMatches(
  wanted: string,
  candidates: string[],
  limit = 3,
): string[] {
  const w = parseEntityRef(wanted).name.toLocaleLowerCase('en-US');
  const scored = candidates
    .map(ref => {
      const name = parseEntityRef(ref).name.toLocaleLowerCase('en-US');
      const distance = levenshtein(w, name);
      const contains = name.includes(w) || w.includes(name);
      return {
        ref,
        distance,
        ok:
          contains ||
          distance <=
            Math.max(2, Math.floor(Math.max(w.length, name.length) / 3)),
      };
    })
    .filter(s => s.ok)
    .sort((x, y) => x.distance - y.distance || x.ref.localeCompare(y.ref));
  return scored.slice(0, limit).map(s => s.ref);
}

export interface VerifyOwnerOptions {
  catalog: CatalogService;
  credentials: BackstageCredentials;
  /** Normalised owner ref, e.g. `group:default/ml-platform`. */
  ownerRef: string;
  /** The one owner rule (`tensorflow.ownerKinds`), e.g. `['group']` or `['group', 'user']`. */
  ownerKinds: readonly string[];
}

const KIND_NAMES: Record<string, string> = { group: 'Group', user: 'User' };

/**
 * Checks that the owner exists in the catalog as one of the allowed kinds (`tensorflow.ownerKinds`)
 * and returns its entity. An unknown owner gets an InputError that suggests near matches.
 */
export async function verifyOwner(
  options: VerifyOwnerOptions,
): Promise<Entity> {
  const { catalog, credentials, ownerRef } = options;
  const kinds = options.ownerKinds.map(k => k.toLocaleLowerCase('en-US'));
  const kind = parseEntityRef(ownerRef).kind.toLocaleLowerCase('en-US');
  if (!kinds.includes(kind)) {
    throw new InputError(
      `owner "${ownerRef}" is a ${kind}; owners must be one of: ${kinds.join(', ')} (tensorflow.ownerKinds), e.g. "group:default/ml-platform"`,
    );
  }
  const entity = await catalog.getEntityByRef(ownerRef, { credentials });
  if (entity && kinds.includes(entity.kind.toLocaleLowerCase('en-US')))
    return entity;

  const { items } = await catalog.getEntities(
    {
      filter: { kind: kinds.map(k => KIND_NAMES[k] ?? k) },
      fields: ['kind', 'metadata.namespace', 'metadata.name'],
    },
    { credentials },
  );
  const candidates = items.map(e =>
    stringifyEntityRef(e).toLocaleLowerCase('en-US'),
  );
  throw new InputError(
    `owner "${ownerRef}" does not exist in the catalog.${missingOwnerHint(ownerRef, candidates, kinds)}`,
  );
}

function missingOwnerHint(
  ownerRef: string,
  candidates: string[],
  kinds: string[],
): string {
  const suggestions = nearMatches(ownerRef, candidates);
  if (suggestions.length > 0)
    return ` Did you mean ${suggestions.map(s => `"${s}"`).join(' or ')}?`;
  if (candidates.length > 0)
    return ` Pick an existing ${kinds.join(' or ')} with the owner picker.`;
  return ` The catalog holds no ${kinds.join(' or ')} entities yet: import your organisation first.`;
}
