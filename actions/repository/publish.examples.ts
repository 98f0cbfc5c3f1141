import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

/** Built when the action is created, not when the module is loaded. */
export const examples = (): TemplateExample[] => [
  {
    description:
      'Publish the workspace as a local git repository (embedded defaults)',
    example: yaml.stringify({
      steps: [
        {
          id: 'publish',
          action: 'tensorflow:repository:publish',
          name: 'Publish repository',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            repoUrl: 'local?repo=fraud-detector',
          },
        },
      ],
    }),
  },
  {
    description:
      'Publish a sub-folder on a custom default branch with a custom message',
    example: yaml.stringify({
      steps: [
        {
          id: 'publish',
          action: 'tensorflow:repository:publish',
          name: 'Publish repository',
          input: {
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            repoUrl: 'local?repo=fraud-detector',
            sourcePath: 'project',
            defaultBranch: 'trunk',
            gitCommitMessage: 'Create fraud-detector from the model wizard',
          },
        },
      ],
    }),
  },
];
