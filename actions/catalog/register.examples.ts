import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

/** Built when the action is created, not when the module is loaded. */
export const examples = (): TemplateExample[] => [
  {
    description:
      'First run: register the model project repository and the model (no serving yet).',
    example: yaml.stringify({
      steps: [
        {
          id: 'register',
          action: 'tensorflow:catalog:register',
          name: 'Register in the catalog',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            description: 'Scores card transactions for fraud',
            repoUrl: 'local?repo=fraud-detector',
            model: {
              signature: {
                name: 'serving_default',
                inputs: [
                  { name: 'features', dtype: 'float32', shape: [-1, 30] },
                ],
                outputs: [{ name: 'score', dtype: 'float32', shape: [-1, 1] }],
              },
              smoke: { backend: 'cpu', device: 'cpu', p50Ms: 1.7 },
            },
          },
        },
      ],
    }),
  },
  {
    description:
      'After serving and identity: register the endpoint, its OpenAPI API and the service account too.',
    example: yaml.stringify({
      steps: [
        {
          id: 'register',
          action: 'tensorflow:catalog:register',
          name: 'Register in the catalog',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            description: 'Scores card transactions for fraud',
            system: 'fraud',
            lifecycle: 'production',
            repoUrl: 'local?repo=fraud-detector',
            model: {
              signature: {
                name: 'serving_default',
                inputs: [
                  { name: 'features', dtype: 'float32', shape: [-1, 30] },
                  { name: 'merchant', dtype: 'string', shape: [-1] },
                ],
                outputs: [{ name: 'score', dtype: 'float32', shape: [-1, 1] }],
              },
              smoke: {
                backend: 'cpu',
                device: 'CPU',
                p50Ms: 1.7,
                date: '2026-11-29T06:00:00.000Z',
              },
            },
            serving: {
              namespace: 'ml-fraud-detector',
              restUrl:
                'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501/v1/models/fraud-detector',
              grpcUrl:
                'fraud-detector.ml-fraud-detector.svc.cluster.local:8500',
              gatewayUrl:
                'https://models.example.com/fraud-detector/v1/models/fraud-detector',
              gitopsUrl: 'https://github.com/acme/ml-gitops/pull/42',
            },
            identity: {
              serviceAccount: {
                namespace: 'ml-fraud-detector',
                name: 'fraud-detector-serving',
                ref: 'ml-fraud-detector/fraud-detector-serving',
              },
              grants: {
                'group:default/ml-platform': ['admin'],
                'group:default/risk': ['predict'],
              },
            },
          },
        },
      ],
    }),
  },
];
