import { parseEntityRef } from '@backstage/catalog-model';

export interface Initiator {
  ref?: string;
  entity?: {
    metadata: { name: string };
    spec?: { profile?: { displayName?: string; email?: string } };
  };
}

/** The commit author for changes made on behalf of the person who started the task. */
export function initiatorAuthor(user: Initiator | undefined): {
  name: string;
  email: string;
} {
  const profile = user?.entity?.spec?.profile;
  let name = 'unknown';
  if (user?.ref) {
    try {
      name = parseEntityRef(user.ref).name;
    } catch {
      name = user.ref;
    }
  }
  const safeName = name.replace(/[^A-Za-z0-9._-]/g, '-');
  return {
    name: profile?.displayName ?? name,
    email: profile?.email ?? `${safeName}@users.noreply.backstage.local`,
  };
}
