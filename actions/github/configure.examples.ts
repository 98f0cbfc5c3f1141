import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

/** Built when the action is created, not when the module is loaded. */
export const examples = (): TemplateExample[] => [
  {
    description:
      'First pass: team permissions, CODEOWNERS, ruleset and environments; outputs the numeric repository ids that pin the CI trust (OIDC subject left unchanged)',
    example: yaml.stringify({
      steps: [
        {
          id: 'github',
          action: 'tensorflow:github:configure',
          name: 'Configure repository',
          input: {
            repoUrl: 'github.com?owner=acme&repo=fraud-detector',
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            grants: { 'group:default/risk': ['read-metadata'] },
          },
        },
      ],
    }),
  },
  {
    description:
      'Second pass, after tensorflow:identity:provision created the cloud trust: variables and the OIDC subject claim',
    example: yaml.stringify({
      steps: [
        {
          id: 'github-oidc',
          action: 'tensorflow:github:configure',
          name: 'Pin the OIDC subject',
          input: {
            repoUrl: 'github.com?owner=acme&repo=fraud-detector',
            name: 'fraud-detector',
            owner: 'group:default/ml-platform',
            serviceAccount: 'ml-fraud-detector/fraud-detector-serving',
            ciTrust: {
              ref: 'aws:arn:aws:iam::123456789012:role/tensorflow/tfci-fraud-detector',
              cloud: 'aws',
              repositoryId: 1296269,
              repositoryOwnerId: 1,
              claimKeys: ['repository_owner_id', 'repository_id', 'context'],
              variables: {
                AWS_ROLE_ARN:
                  'arn:aws:iam::123456789012:role/tensorflow/tfci-fraud-detector',
              },
            },
          },
        },
      ],
    }),
  },
];
