import type { JsonObject } from '@backstage/types';
import { startTestBackend, mockServices } from '@backstage/backend-test-utils';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import module from './index';

describe('tensorflow scaffolder module', () => {
  it('registers every tensorflow action once, each with schemas and examples', async () => {
    const actions: any[] = [];
    await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          { addActions: (...a: any[]) => actions.push(...a) },
        ],
      ],
      features: [
        module,
        catalogServiceMock.factory(),
        mockServices.rootConfig.factory({ data: {} }),
      ],
    });
    const ids = actions.map(a => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'tensorflow:model:create',
        'tensorflow:repository:publish',
      ]),
    );
    for (const action of actions) {
      expect(action.id).toMatch(/^tensorflow:[a-z]+:[a-z][A-Za-z]*$/);
      expect(action.schema?.input).toBeDefined();
      expect(action.schema?.output).toBeDefined();
      expect(action.examples?.length).toBeGreaterThan(0);
    }
  });
});

describe('the owner rule at start-up', () => {
  const start = async (tensorflow: JsonObject) => {
    const logger = mockServices.logger.mock();
    const actions: any[] = [];
    await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          { addActions: (...a: any[]) => actions.push(...a) },
        ],
      ],
      features: [
        module,
        catalogServiceMock.factory(),
        logger.factory,
        mockServices.rootConfig.factory({ data: { tensorflow } }),
      ],
    });
    return { logger, actions };
  };
  const deprecation = expect.stringContaining(
    'tensorflow.catalog.allowUserOwners is deprecated',
  );

  it('logs no warning when only tensorflow.ownerKinds is set', async () => {
    const { logger } = await start({ ownerKinds: ['group', 'user'] });
    expect(logger.warn).not.toHaveBeenCalledWith(deprecation);
  });

  it('warns when the deprecated tensorflow.catalog.allowUserOwners is set, naming the replacement', async () => {
    const { logger } = await start({ catalog: { allowUserOwners: true } });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining(
        'replace it with tensorflow.ownerKinds: [group, user]',
      ),
    );
  });

  it('fails start-up when allowUserOwners and ownerKinds disagree', async () => {
    await expect(
      start({ ownerKinds: ['group'], catalog: { allowUserOwners: true } }),
    ).rejects.toThrow(
      /tensorflow\.catalog\.allowUserOwners is true but tensorflow\.ownerKinds is \[group\]; these disagree/,
    );
  });
});
