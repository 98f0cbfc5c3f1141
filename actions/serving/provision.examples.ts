import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import { stringify } from 'yaml';

/** Examples shown on /create/actions; each one is run by provision.test.ts. */
/** Built when the action is created, not when the module is loaded. */
export const examples = (): TemplateExample[] => [
  {
    description:
      'CPU endpoint with the platform defaults (small size, latest version)',
    example: stringify({
      steps: [
        {
          id: 'serving',
          action: 'tensorflow:serving:provision',
          name: 'Provision serving endpoint',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            environment: 'development',
          },
        },
      ],
    }),
  },
  {
    description:
      'GPU endpoint: 2 replicas with 1 GPU each, two pinned versions with labels, batching on',
    example: stringify({
      steps: [
        {
          id: 'serving',
          action: 'tensorflow:serving:provision',
          name: 'Provision GPU serving endpoint',
          input: {
            name: 'image-ranker',
            owner: 'group:default/vision',
            environment: 'production',
            replicas: 2,
            gpus: 1,
            cpu: '4',
            memory: '16Gi',
            versionPolicy: 'specific',
            versions: [3, 4],
            versionLabels: { stable: 3, canary: 4 },
            batching: {
              enabled: true,
              maxBatchSize: 64,
              batchTimeoutMicros: 2000,
            },
            storageUri: 'pvc://models/image-ranker',
          },
        },
      ],
    }),
  },
  {
    description: 'Size preset from the wizard, values from earlier steps',
    example: stringify({
      steps: [
        {
          id: 'serving',
          action: 'tensorflow:serving:provision',
          name: 'Provision serving endpoint',
          input: {
            name: 'churn-model',
            owner: 'group:default/ml-platform',
            environment: 'staging',
            size: 'medium',
          },
        },
      ],
    }),
  },
];
