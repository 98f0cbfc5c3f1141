import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

/** Built when the action is created, not when the module is loaded. */
export const examples = (): TemplateExample[] => [
  {
    description:
      'Provision the service account, RBAC and workload identity of a model project owned by a group',
    example: yaml.stringify({
      steps: [
        {
          id: 'identity',
          action: 'tensorflow:identity:provision',
          name: 'Provision identity',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            grants: {
              'group:default/risk-analytics': ['predict', 'read-metadata'],
            },
          },
        },
      ],
    }),
  },
  {
    description:
      'Also trust the model repository’s GitHub Actions (numeric ids from tensorflow:github:configure)',
    example: yaml.stringify({
      steps: [
        {
          id: 'identity',
          action: 'tensorflow:identity:provision',
          name: 'Provision identity and CI trust',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            repository: {
              owner: 'acme',
              name: 'fraud-detector',
              id: 74,
              ownerId: 65,
            },
          },
        },
      ],
    }),
  },
];
