import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import { createModelValidateAction } from './validate';
import { examples } from './validate.examples';
import { starterModelDir } from '../../tools/starter-model/starter';
import { testProjectAccess } from '../../test/support/access/project';
import {
  actionContext,
  makeWorkspace,
  mockAuditor,
} from '../../test/support/actionContext';

const naming = { namespacePrefix: 'ml-' };

describe('tensorflow:model:validate examples', () => {
  it.each(examples().map(e => [e.description, e] as const))(
    'runs: %s',
    async (_d, example) => {
      const urlReader = UrlReaders.default({
        config: new ConfigReader({}),
        logger: mockServices.logger.mock(),
      });
      const action = createModelValidateAction({
        urlReader,
        auditor: mockAuditor(),
        naming,
        projectAccess: testProjectAccess(),
      });
      const workspacePath = makeWorkspace('smoke-example-');
      fs.cpSync(starterModelDir(), path.join(workspacePath, 'model'), {
        recursive: true,
      });
      const input = yaml.parse(example.example).steps[0].input;
      const { ctx, outputs } = actionContext(input, { workspacePath });
      await action.handler(ctx as any);
      expect(outputs).toMatchObject({ passed: true, format: 'layers-model' });
      expect(
        fs.existsSync(
          path.join(workspacePath, input.reportPath ?? 'smoke-report.json'),
        ),
      ).toBe(true);
    },
  );
});
