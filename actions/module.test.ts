import { startTestBackend, mockServices } from '@backstage/backend-test-utils';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import module from './index';

describe('tensorflow scaffolder module', () => {
  it('registers every tensorflow action once, each with schemas and examples', async () => {
    const actions: any[] = [];
    await startTestBackend({
      extensionPoints: [[scaffolderActionsExtensionPoint, { addActions: (...a: any[]) => actions.push(...a) }]],
      features: [module, catalogServiceMock.factory(), mockServices.rootConfig.factory({ data: {} })],
    });
    const ids = actions.map(a => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['tensorflow:model:create', 'tensorflow:repository:publish']));
    for (const action of actions) {
      expect(action.id).toMatch(/^tensorflow:[a-z]+:[a-z][A-Za-z]*$/);
      expect(action.schema?.input).toBeDefined();
      expect(action.schema?.output).toBeDefined();
      expect(action.examples?.length).toBeGreaterThan(0);
    }
  });
});
