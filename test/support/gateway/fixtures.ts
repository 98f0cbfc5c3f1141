import {
  DEFAULT_ACCESS_POLICY,
  parseAccessPolicy,
  type AccessPolicy,
} from '../../../actions/access/config';
import { deriveProject } from '../../../actions/shared/naming';
import type { SimulatedToken } from './simulate';

export const naming = { namespacePrefix: 'ml-' };
export const projectA = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  naming,
);
export const projectB = deriveProject(
  { name: 'churn-model', owner: 'group:default/ml-platform' },
  naming,
);

const all = ['predict', 'read-metadata', 'deploy', 'admin'];

/** Several access policies the gateway must honour. */
export const POLICIES: Record<string, AccessPolicy> = {
  default: DEFAULT_ACCESS_POLICY,
  // predict is :predict only, read-metadata is /metadata only, admin has no data-plane routes,
  // every scope may be granted to anyone.
  narrow: parseAccessPolicy({
    scopes: {
      predict: {
        gateway: { routes: [{ methods: ['POST'], paths: [':predict'] }] },
      },
      'read-metadata': {
        github: { permission: 'pull' },
        gateway: { routes: [{ methods: ['GET'], paths: ['/metadata'] }] },
      },
      deploy: {
        github: { permission: 'push' },
        kubernetes: {
          rules: [
            {
              apiGroups: ['apps'],
              resources: ['deployments'],
              resourceNames: ['<project>'],
              verbs: ['get'],
            },
          ],
        },
      },
      admin: { github: { permission: 'maintain' } },
    },
    rules: { ownerDefaultScopes: ['admin'], grantable: all },
  }),
  // The policy says deploy may read status at the data plane; classify/regress are a separate scope.
  split: parseAccessPolicy({
    scopes: {
      predict: {
        gateway: { routes: [{ methods: ['POST'], paths: [':predict'] }] },
      },
      'classify-regress': {
        gateway: {
          routes: [{ methods: ['POST'], paths: [':classify', ':regress'] }],
        },
      },
      'read-metadata': {
        github: { permission: 'pull' },
        gateway: { routes: [{ methods: ['GET'], paths: ['', '/metadata'] }] },
      },
      deploy: {
        github: { permission: 'push' },
        gateway: { routes: [{ methods: ['GET'], paths: [''] }] },
      },
      admin: {
        github: { permission: 'admin' },
        gateway: {
          routes: [
            { methods: ['GET', 'POST'], paths: [':predict', '/metadata'] },
          ],
        },
      },
    },
    rules: {
      ownerDefaultScopes: ['admin'],
      grantable: [...all, 'classify-regress'],
    },
  }),
};

/** A policy in which every scope may be granted to any group (to probe one scope at a time). */
export function grantableEverything(policy: AccessPolicy): AccessPolicy {
  return {
    ...policy,
    rules: { ...policy.rules, grantable: Object.keys(policy.scopes) },
  };
}

export function token(
  aud: string,
  groups: string[],
  overrides: Partial<SimulatedToken> = {},
): SimulatedToken {
  return {
    iss: 'https://idp.dev.localhost',
    sub: 'user-42',
    aud: [aud],
    claims: { groups },
    ...overrides,
  };
}
