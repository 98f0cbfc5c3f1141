import type { Entity } from '@backstage/catalog-model';

/** Catalog fixtures shared by access and identity tests. */
const user = (
  name: string,
  memberOf: string[],
  relations: string[] = [],
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name, namespace: 'default' },
  spec: { memberOf },
  relations: relations.map(targetRef => ({ type: 'memberOf', targetRef })),
});
const group = (name: string, parent?: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name, namespace: 'default' },
  spec: { type: 'team', children: [], ...(parent ? { parent } : {}) },
});

export const people: Entity[] = [
  user('alice', ['ml-platform']),
  user('rel', [], ['group:default/ml-platform']),
  user('carol', ['fraud-squad']),
  user('bob', ['marketing']),
  user('root', ['platform-admins']),
  group('ml-platform'),
  group('fraud-squad', 'ml-platform'),
  group('marketing'),
  group('platform-admins'),
];
