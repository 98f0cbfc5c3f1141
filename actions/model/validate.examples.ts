import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

/** Built when the action is created, not when the module is loaded. */
export const examples = (): TemplateExample[] => [
  {
    description:
      'Smoke-test the starter model in the new project (model/), any device',
    example: yaml.stringify({
      steps: [
        {
          id: 'validate',
          action: 'tensorflow:model:validate',
          name: 'Validate model',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            modelPath: 'model',
          },
        },
      ],
    }),
  },
  {
    description:
      'CPU only, 10 runs, a latency budget, explicit input and an expected probability range',
    example: yaml.stringify({
      steps: [
        {
          id: 'validate',
          action: 'tensorflow:model:validate',
          name: 'Validate model',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            modelPath: 'model',
            device: 'cpu',
            runs: 10,
            warmupRuns: 1,
            latencyBudgetMs: 1000,
            inputs: { features: { values: [[0.1, 0.2, 0.3, 0.4]] } },
            expectOutputs: { probs: { shape: [1, 3], min: 0, max: 1 } },
            reportPath: 'reports/smoke-report.json',
          },
        },
      ],
    }),
  },
];
