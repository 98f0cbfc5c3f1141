import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  parseEntityRef,
  stringifyEntityRef,
  type Entity,
} from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { AccessPolicy } from './config';

export interface InitiatorAuthorization {
  initiator: string;
  /** Groups the initiator belongs to (direct and parent groups). */
  groups: string[];
  /**
   * Why the initiator may act: a member of the owning group, the owning User themself
   * (only reachable when tensorflow.ownerKinds allows user owners), or an admin group member.
   */
  via: 'owner-member' | 'owner-self' | 'admin-scope';
}

export interface AuthorizeInitiatorOptions {
  catalog: Pick<CatalogService, 'getEntityByRef' | 'getEntitiesByRefs'>;
  /** The initiator's own credentials (`ctx.getInitiatorCredentials()`): the catalog read runs as them. */
  credentials: BackstageCredentials;
  /** `ctx.user.ref`; never taken from template input. */
  initiatorRef: string | undefined;
  /** Full ref of the owning group, e.g. `group:default/ml-platform`. */
  owner: string;
  policy: AccessPolicy;
  /** What is being attempted, named in the error, e.g. `tensorflow:identity:provision`. */
  action: string;
  /** How many levels of parent groups to follow (default 5). */
  maxParentDepth?: number;
}

function toGroupRef(
  value: string,
  defaultNamespace: string,
): string | undefined {
  try {
    const ref = parseEntityRef(value, {
      defaultKind: 'group',
      defaultNamespace,
    });
    if (ref.kind.toLocaleLowerCase('en-US') !== 'group') return undefined;
    return stringifyEntityRef({
      kind: 'group',
      namespace: ref.namespace,
      name: ref.name,
    });
  } catch {
    return undefined;
  }
}

/** Direct groups of a User entity: `memberOf` relations plus `spec.memberOf`. */
export function directGroupsOf(user: Entity): string[] {
  const ns = user.metadata.namespace ?? 'default';
  const out = new Set<string>();
  for (const r of user.relations ?? []) {
    if (r.type === 'memberOf') {
      const g = toGroupRef(r.targetRef, ns);
      if (g) out.add(g);
    }
  }
  const spec = (user.spec ?? {}) as { memberOf?: unknown };
  if (Array.isArray(spec.memberOf)) {
    for (const m of spec.memberOf) {
      if (typeof m === 'string') {
        const g = toGroupRef(m, ns);
        if (g) out.add(g);
      }
    }
  }
  return [...out].sort();
}

/**
 * Looks up the initiator's groups in the catalog with the initiator's own
 * credentials (direct groups, then parent groups via `spec.parent`, a few
 * levels up), then decides whether they may provision for `owner`:
 * a member of the owning group, the owning User themself, or a member of a group holding the admin scope.
 * Throws a NotAllowedError that names who, which group and how to get access.
 */
export async function authorizeInitiator(
  options: AuthorizeInitiatorOptions,
): Promise<InitiatorAuthorization> {
  const { catalog, credentials, owner, policy, action } = options;
  const who = options.initiatorRef;
  const howTo = `Ask a member of ${owner} to add you to that group in the catalog (your identity provider's group sync), or ask the platform team for membership of a group holding the admin scope${
    policy.rules.adminGroups.length
      ? ` (${policy.rules.adminGroups.join(', ')})`
      : ''
  } in tensorflow.access.rules.adminGroups.`;
  if (!who) {
    throw new NotAllowedError(
      `${action} needs a signed-in user: the task has no initiator, so it may not provision for ${owner}. ${howTo}`,
    );
  }
  const user = await catalog.getEntityByRef(who, { credentials });
  if (!user) {
    throw new NotAllowedError(
      `${who} may not run ${action} for ${owner}: the initiator's User entity is not in the catalog (or not visible to them), so group membership cannot be checked. ${howTo}`,
    );
  }
  const groups = new Set(directGroupsOf(user));
  let frontier = [...groups];
  const depth = options.maxParentDepth ?? 5;
  for (let level = 0; level < depth && frontier.length > 0; level++) {
    const { items } = await catalog.getEntitiesByRefs(
      { entityRefs: frontier, fields: ['kind', 'metadata', 'spec.parent'] },
      { credentials },
    );
    const next: string[] = [];
    for (const [i, e] of items.entries()) {
      const parent = (e?.spec as { parent?: unknown } | undefined)?.parent;
      if (typeof parent !== 'string') continue;
      const ns = parseEntityRef(frontier[i]).namespace;
      const g = toGroupRef(parent, ns);
      if (g && !groups.has(g)) {
        groups.add(g);
        next.push(g);
      }
    }
    frontier = next;
  }
  const list = [...groups].sort();
  if (groups.has(owner))
    return { initiator: who, groups: list, via: 'owner-member' };
  if (
    owner.toLocaleLowerCase('en-US') ===
    stringifyEntityRef(user).toLocaleLowerCase('en-US')
  )
    return { initiator: who, groups: list, via: 'owner-self' };
  if (policy.rules.adminGroups.some(g => groups.has(g)))
    return { initiator: who, groups: list, via: 'admin-scope' };
  throw new NotAllowedError(
    `${who} may not run ${action} for ${owner}: they are not a member of ${owner} (member of: ${list.join(', ') || 'no groups'}) and hold no admin scope. Nothing was created. ${howTo}`,
  );
}
