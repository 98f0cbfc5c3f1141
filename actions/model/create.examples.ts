import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

/** Built when the action is created, not when the module is loaded. */
export const examples = (): TemplateExample[] => [
  {
    description:
      'Create a model project from the packaged skeleton at the workspace root',
    example: yaml.stringify({
      steps: [
        {
          id: 'create',
          action: 'tensorflow:model:create',
          name: 'Create model project',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            skeleton: 'model-project',
            values: {
              description: 'Scores card transactions for fraud',
              system: '',
              lifecycle: 'experimental',
              modelName: 'fraud-detector',
            },
          },
        },
      ],
    }),
  },
  {
    description: 'Render into a sub-folder, replacing files that differ',
    example: yaml.stringify({
      steps: [
        {
          id: 'create',
          action: 'tensorflow:model:create',
          name: 'Create model project',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            skeleton: 'model-project',
            targetPath: 'services/fraud-detector',
            overwrite: true,
            values: {
              description: 'Scores card transactions for fraud',
              system: 'payments',
              lifecycle: 'production',
              modelName: 'fraud-detector',
            },
          },
        },
      ],
    }),
  },
];
