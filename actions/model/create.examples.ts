import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Create a model project from the packaged skeleton at the workspace root',
    example: yaml.stringify({
      steps: [
        {
          id: 'create',
          action: 'tensorflow:model:create',
          name: 'Create model project',
          input: {
            skeleton: 'model-project',
            values: {
              name: 'fraud-detector',
              description: 'Scores card transactions for fraud',
              owner: 'group:default/ml-platform',
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
            skeleton: 'model-project',
            targetPath: 'services/fraud-detector',
            overwrite: true,
            values: {
              name: 'fraud-detector',
              description: 'Scores card transactions for fraud',
              owner: 'group:default/ml-platform',
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
