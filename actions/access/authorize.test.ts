import { NotAllowedError } from '@backstage/errors';
import { mockCredentials } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { DEFAULT_ACCESS_POLICY, parseAccessPolicy } from './config';
import { authorizeInitiator } from './authorize';
import { people } from '../../test/support/access/authorize';

describe('authorizeInitiator', () => {
  const catalog = catalogServiceMock({ entities: people });
  const policy = parseAccessPolicy({
    rules: { adminGroups: ['group:default/platform-admins'] },
  });
  const run = (initiatorRef: string | undefined, p = policy) =>
    authorizeInitiator({
      catalog,
      credentials: mockCredentials.user(initiatorRef ?? 'user:default/nobody'),
      initiatorRef,
      owner: 'group:default/ml-platform',
      policy: p,
      action: 'tensorflow:identity:provision',
    });

  it('admits direct members (spec.memberOf or memberOf relations)', async () => {
    await expect(run('user:default/alice')).resolves.toMatchObject({
      via: 'owner-member',
      groups: ['group:default/ml-platform'],
    });
    await expect(run('user:default/rel')).resolves.toMatchObject({
      via: 'owner-member',
    });
  });

  it('admits members of child groups through spec.parent', async () => {
    await expect(run('user:default/carol')).resolves.toMatchObject({
      via: 'owner-member',
      groups: ['group:default/fraud-squad', 'group:default/ml-platform'],
    });
  });

  it('admits a User owner themself (tensorflow.ownerKinds [group, user]), and no one else for that User', async () => {
    const forUser = (initiatorRef: string) =>
      authorizeInitiator({
        catalog,
        credentials: mockCredentials.user(initiatorRef),
        initiatorRef,
        owner: 'user:default/bob',
        policy,
        action: 'tensorflow:identity:provision',
      });
    await expect(forUser('user:default/bob')).resolves.toMatchObject({
      via: 'owner-self',
    });
    await expect(forUser('user:default/alice')).rejects.toThrow(
      NotAllowedError,
    );
  });

  it('admits holders of the admin scope', async () => {
    await expect(run('user:default/root')).resolves.toMatchObject({
      via: 'admin-scope',
    });
    await expect(
      run('user:default/root', DEFAULT_ACCESS_POLICY),
    ).rejects.toThrow(NotAllowedError);
  });

  it('refuses an initiator outside the owning group, naming who, what group and how to get access', async () => {
    const error = await run('user:default/bob').catch(e => e);
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(error.message).toContain(
      'user:default/bob may not run tensorflow:identity:provision for group:default/ml-platform',
    );
    expect(error.message).toContain('member of: group:default/marketing');
    expect(error.message).toContain(
      'Ask a member of group:default/ml-platform to add you',
    );
    expect(error.message).toContain('group:default/platform-admins');
  });

  it('refuses unknown users and tasks without an initiator', async () => {
    await expect(run('user:default/ghost')).rejects.toThrow(
      /User entity is not in the catalog/,
    );
    await expect(run(undefined)).rejects.toThrow(/needs a signed-in user/);
  });
});
