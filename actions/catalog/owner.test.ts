import type { Entity } from '@backstage/catalog-model';
import { mockCredentials } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { levenshtein, nearMatches, verifyOwner } from './owner';

const group = (name: string, members: string[] = []): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name, namespace: 'default' },
  spec: { type: 'team', children: [], members },
});
const user = (name: string, memberOf: string[] = []): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name, namespace: 'default' },
  spec: { memberOf },
  relations: memberOf.map(g => ({
    type: 'memberOf',
    targetRef: `group:default/${g}`,
  })),
});

const catalog = catalogServiceMock({
  entities: [
    group('ml-platform'),
    group('ml-research'),
    group('payments'),
    user('jdoe', ['ml-platform']),
    user('alice'),
  ],
});
const credentials = mockCredentials.user('user:default/jdoe');

describe('levenshtein / nearMatches', () => {
  it('measures edit distance', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'ab')).toBe(2);
    expect(levenshtein('same', 'same')).toBe(0);
  });
  it('suggests close names first and ignores distant ones', () => {
    const refs = [
      'group:default/ml-platform',
      'group:default/ml-research',
      'group:default/payments',
    ];
    expect(nearMatches('group:default/ml-platfrom', refs)).toEqual([
      'group:default/ml-platform',
    ]);
    expect(nearMatches('group:default/zzzzzzzzzzzz', refs)).toEqual([]);
  });
});

describe('verifyOwner', () => {
  it('returns the Group entity when it exists', async () => {
    const owner = await verifyOwner({
      catalog,
      credentials,
      ownerRef: 'group:default/ml-platform',
      ownerKinds: ['group'],
    });
    expect(owner.metadata.name).toBe('ml-platform');
  });

  it('refuses an unknown owner and suggests the near match', async () => {
    await expect(
      verifyOwner({
        catalog,
        credentials,
        ownerRef: 'group:default/ml-platfrom',
        ownerKinds: ['group'],
      }),
    ).rejects.toThrow(
      /owner "group:default\/ml-platfrom" does not exist in the catalog\. Did you mean "group:default\/ml-platform"\?/,
    );
  });

  it('refuses User owners unless allowed', async () => {
    await expect(
      verifyOwner({
        catalog,
        credentials,
        ownerRef: 'user:default/alice',
        ownerKinds: ['group'],
      }),
    ).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('one of: group (tensorflow.ownerKinds)'),
    });
    const owner = await verifyOwner({
      catalog,
      credentials,
      ownerRef: 'user:default/alice',
      ownerKinds: ['group', 'user'],
    });
    expect(owner.kind).toBe('User');
  });

  it('does not accept a User where a Group ref was given', async () => {
    // jdoe exists as a User, not as a Group
    await expect(
      verifyOwner({
        catalog,
        credentials,
        ownerRef: 'group:default/jdoe',
        ownerKinds: ['group', 'user'],
      }),
    ).rejects.toThrow(/does not exist/);
  });
});
