import {
  parseEntityRef,
  RELATION_MEMBER_OF,
  stringifyEntityRef,
  type Entity,
} from '@backstage/catalog-model';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { InputError, NotAllowedError } from '@backstage/errors';

/** Classic edit distance (insert/delete/substitute = 1). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Up to `limit` refs closest to `wanted` (by name), close enough to be a plausible typo. */
export function nearMatches(wanted: string, candidates: string[], limit = 3): string[] {
  const w = parseEntityRef(wanted).name.toLocaleLowerCase('en-US');
  const scored = candidates
    .map(ref => {
      const name = parseEntityRef(ref).name.toLocaleLowerCase('en-US');
      const distance = levenshtein(w, name);
      const contains = name.includes(w) || w.includes(name);
      return { ref, distance, ok: contains || distance <= Math.max(2, Math.floor(Math.max(w.length, name.length) / 3)) };
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
  allowUserOwners: boolean;
}

/**
 * Checks that the owner exists in the catalog as a Group (or a User when allowed) and
 * returns its entity. An unknown owner gets an InputError that suggests near matches.
 */
export async function verifyOwner(options: VerifyOwnerOptions): Promise<Entity> {
  const { catalog, credentials, ownerRef, allowUserOwners } = options;
  const kind = parseEntityRef(ownerRef).kind.toLocaleLowerCase('en-US');
  const kinds = allowUserOwners ? ['group', 'user'] : ['group'];
  if (!kinds.includes(kind)) {
    throw new InputError(
      `owner "${ownerRef}" is a ${kind}; owners must be ${allowUserOwners ? 'a Group or a User' : 'a Group (tensorflow.catalog.allowUserOwners is off)'}, e.g. "group:default/ml-platform"`,
    );
  }
  const entity = await catalog.getEntityByRef(ownerRef, { credentials });
  if (entity && kinds.includes(entity.kind.toLocaleLowerCase('en-US'))) return entity;

  const { items } = await catalog.getEntities(
    {
      filter: { kind: allowUserOwners ? ['Group', 'User'] : ['Group'] },
      fields: ['kind', 'metadata.namespace', 'metadata.name'],
    },
    { credentials },
  );
  const candidates = items.map(e => stringifyEntityRef(e).toLocaleLowerCase('en-US'));
  const suggestions = nearMatches(ownerRef, candidates);
  const hint = suggestions.length > 0
    ? ` Did you mean ${suggestions.map(s => `"${s}"`).join(' or ')}?`
    : candidates.length > 0
      ? ' Pick an existing group with the owner picker.'
      : ' The catalog holds no groups yet: import your organisation first.';
  throw new InputError(`owner "${ownerRef}" does not exist in the catalog.${hint}`);
}

/**
 * Arguments of the injected initiator check; a subset of actions/access/authorize.ts
 * `AuthorizeInitiatorOptions` (module.ts adds `catalog` and `policy`).
 */
export interface AuthorizeInitiatorArgs {
  /** The initiator's own credentials. */
  credentials: BackstageCredentials;
  /** `ctx.user.ref` (undefined for service principals); never taken from template input. */
  initiatorRef: string | undefined;
  /** Full owner ref, verified to exist. */
  owner: string;
  /** Action id, named in the error. */
  action: string;
  /** The owner's catalog entity (already read by verifyOwner). */
  ownerEntity: Entity;
  /** The initiator's User entity when known. */
  initiatorEntity?: Entity;
}

export type AuthorizeInitiator = (args: AuthorizeInitiatorArgs) => Promise<void>;

function normaliseGroupRef(value: string, defaultNamespace: string): string | undefined {
  try {
    return stringifyEntityRef(parseEntityRef(value, { defaultKind: 'group', defaultNamespace })).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}

/**
 * Default initiator check, used when no `authorizeInitiator` is injected: the initiator must be
 * the owner (User owners) or a direct member of the owner group. No admin bypass here; the
 * access policy's check (which knows the admin scope) replaces this one when injected.
 */
export const requireOwnerMembership: AuthorizeInitiator = async args => {
  const { initiatorRef, owner: ownerRef, ownerEntity } = args;
  if (!initiatorRef) {
    throw new NotAllowedError(`${args.action}: the task has no user initiator, so membership of ${ownerRef} cannot be checked`);
  }
  const me = initiatorRef.toLocaleLowerCase('en-US');
  const owner = ownerRef.toLocaleLowerCase('en-US');
  if (me === owner) return;
  const memberships = new Set<string>();
  const user = args.initiatorEntity;
  const userNs = user?.metadata.namespace ?? parseEntityRef(initiatorRef).namespace;
  for (const r of user?.relations ?? []) if (r.type === RELATION_MEMBER_OF) memberships.add(r.targetRef.toLocaleLowerCase('en-US'));
  const memberOf = (user?.spec as { memberOf?: unknown } | undefined)?.memberOf;
  if (Array.isArray(memberOf)) {
    for (const m of memberOf) if (typeof m === 'string') { const g = normaliseGroupRef(m, userNs); if (g) memberships.add(g); }
  }
  const members = (ownerEntity.spec as { members?: unknown } | undefined)?.members;
  if (Array.isArray(members)) {
    const ownerNs = ownerEntity.metadata.namespace ?? 'default';
    for (const m of members) {
      if (typeof m !== 'string') continue;
      try {
        const u = stringifyEntityRef(parseEntityRef(m, { defaultKind: 'user', defaultNamespace: ownerNs })).toLocaleLowerCase('en-US');
        if (u === me) memberships.add(owner);
      } catch {
        /* ignore malformed member */
      }
    }
  }
  if (!memberships.has(owner)) {
    throw new NotAllowedError(
      `${initiatorRef} is not a member of ${ownerRef}: only members of the owner group may register entities it owns; ask a member of ${ownerRef} to run the template, or choose a group you belong to`,
    );
  }
};
