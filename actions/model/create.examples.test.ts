import path from 'node:path';
import yaml from 'yaml';
import { createModelCreateAction } from './create';
import { examples } from './create.examples';
import { actionContext, mockAuditor } from '../../test/support/actionContext';
import { testProjectAccess } from '../../test/support/access/project';

describe('tensorflow:model:create examples', () => {
  it.each(examples().map(e => [e.description, e] as const))(
    'runs: %s',
    async (_d, example) => {
      const action = createModelCreateAction({
        skeletonsDir: path.resolve(__dirname, '../../skeletons'),
        auditor: mockAuditor(),
        naming: { namespacePrefix: 'ml-' },
        projectAccess: testProjectAccess(),
      });
      const input = yaml.parse(example.example).steps[0].input;
      const { ctx, outputs } = actionContext(input);
      await action.handler(ctx as any);
      expect(outputs.files).toEqual(
        expect.arrayContaining([expect.stringMatching(/catalog-info\.yaml$/)]),
      );
    },
  );
});
