/**
 * The permission policy shown in docs/security.md, compiled and exercised here so the
 * documented API names (verified in node_modules) stay true.
 */
import {
  AuthorizeResult,
  isPermission,
  type PermissionCondition,
  type PermissionCriteria,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { actionExecutePermission } from '@backstage/plugin-scaffolder-common/alpha';
import {
  createScaffolderActionConditionalDecision,
  scaffolderActionConditions,
} from '@backstage/plugin-scaffolder-backend/alpha';

const GUARDED = [
  'tensorflow:identity:provision',
  'tensorflow:github:configure',
  'tensorflow:serving:provision',
];

class TensorflowActionsPolicy implements PermissionPolicy {
  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    if (isPermission(request.permission, actionExecutePermission)) {
      const refs = user?.info.ownershipEntityRefs ?? [];
      if (refs.includes('group:default/platform-admins'))
        return { result: AuthorizeResult.ALLOW };
      // Other actions run as before; ours only with `owner` set to one of the user's own groups.
      const [first, ...more] = GUARDED.map(actionId =>
        scaffolderActionConditions.hasActionId({ actionId }),
      );
      const notOurs: PermissionCriteria<
        PermissionCondition<'scaffolder-action'>
      > = { not: { anyOf: [first, ...more] } };
      const [own, ...owns] = refs
        .filter(r => r.startsWith('group:'))
        .map(value =>
          scaffolderActionConditions.hasStringProperty({ key: 'owner', value }),
        );
      return createScaffolderActionConditionalDecision(
        request.permission,
        own ? { anyOf: [notOurs, { anyOf: [own, ...owns] }] } : notOurs,
      );
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

const userWith = (refs: string[]) => ({
  credentials: {} as any,
  info: { userEntityRef: 'user:default/alice', ownershipEntityRefs: refs },
});

describe('documented scaffolder permission policy', () => {
  const policy = new TensorflowActionsPolicy();
  it('returns a conditional decision on scaffolder-action resources naming our action ids and the user groups', async () => {
    const decision = await policy.handle(
      { permission: actionExecutePermission },
      userWith(['user:default/alice', 'group:default/ml-platform']),
    );
    expect(decision).toMatchObject({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'scaffolder',
      resourceType: 'scaffolder-action',
    });
    const text = JSON.stringify(decision);
    expect(text).toContain('"rule":"HAS_ACTION_ID"');
    expect(text).toContain('tensorflow:identity:provision');
    expect(text).toContain('"rule":"HAS_STRING_PROPERTY"');
    expect(text).toContain('group:default/ml-platform');
  });
  it('allows platform admins outright', async () => {
    await expect(
      policy.handle(
        { permission: actionExecutePermission },
        userWith(['group:default/platform-admins']),
      ),
    ).resolves.toEqual({ result: AuthorizeResult.ALLOW });
  });
});
