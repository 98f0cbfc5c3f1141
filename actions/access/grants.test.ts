import { ConfigReader } from '@backstage/config';
import { deriveProject } from '../shared/naming';
import {
  DEFAULT_ACCESS_POLICY,
  parseAccessPolicy,
  readAccessPolicy,
} from './config';
import {
  allowedScopesFor,
  computeGrants,
  normaliseRequestedGrants,
} from './grants';

const project = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  { namespacePrefix: 'ml-' },
);

describe('readAccessPolicy', () => {
  it('uses the embedded defaults with no config', () => {
    const policy = readAccessPolicy(new ConfigReader({}));
    expect(policy).toBe(DEFAULT_ACCESS_POLICY);
    expect(Object.keys(policy.scopes).sort()).toEqual([
      'admin',
      'deploy',
      'predict',
      'read-metadata',
    ]);
  });

  it.each([
    [
      { scopes: { predict: { github: { permission: 'write' } } } },
      'tensorflow.access.scopes.predict.github.permission',
    ],
    [
      { rules: { grantable: ['predict', 'superuser'] } },
      'tensorflow.access.rules.grantable[1]',
    ],
    [
      { rules: { ownerDefaultScopes: ['root'] } },
      'tensorflow.access.rules.ownerDefaultScopes[0]',
    ],
    [
      { rules: { adminGroups: ['platform-admins'] } },
      'tensorflow.access.rules.adminGroups[0]',
    ],
    [
      { rules: { groups: [{ group: 'group:default/sre', scopes: ['nope'] }] } },
      'tensorflow.access.rules.groups[0].scopes[0]',
    ],
    [
      {
        scopes: {
          ...DEFAULT_ACCESS_POLICY.scopes,
          deploy: {
            kubernetes: {
              rules: [
                {
                  apiGroups: [''],
                  resources: ['serviceaccounts/token'],
                  verbs: ['create'],
                },
              ],
            },
          },
        },
      },
      'tensorflow.access.scopes.deploy.kubernetes.rules[0].resources[0]',
    ],
    [
      {
        scopes: {
          ...DEFAULT_ACCESS_POLICY.scopes,
          admin: {
            kubernetes: {
              rules: [{ apiGroups: ['*'], resources: ['pods'], verbs: ['*'] }],
            },
          },
        },
      },
      'tensorflow.access.scopes.admin.kubernetes.rules[0].apiGroups[0]',
    ],
    [
      { scopes: { predict: {}, deploy: {}, admin: {} } },
      'tensorflow.access.scopes.read-metadata',
    ],
    [
      {
        scopes: {
          ...DEFAULT_ACCESS_POLICY.scopes,
          x: {
            kubernetes: {
              rules: [
                {
                  apiGroups: ['apps'],
                  resources: ['deployments'],
                  verbs: ['get'],
                  resourceNames: ['<owner>'],
                },
              ],
            },
          },
        },
      },
      'tensorflow.access.scopes.x.kubernetes.rules[0].resourceNames[0]',
    ],
    [{ colour: 'blue' }, 'tensorflow.access'],
  ])('rejects invalid policy %# naming the key', (raw, key) => {
    expect(() =>
      readAccessPolicy(new ConfigReader({ tensorflow: { access: raw } })),
    ).toThrow(
      expect.objectContaining({
        key,
        message: expect.stringContaining(`Invalid access policy at ${key}`),
      }),
    );
  });
});

describe('computeGrants with the default policy', () => {
  it('gives the owner its default scopes and maps every target', () => {
    const g = computeGrants(DEFAULT_ACCESS_POLICY, project, {
      'group:default/risk': ['predict', 'read-metadata'],
    });
    expect(g.groups).toEqual({
      'group:default/ml-platform': ['admin'],
      'group:default/risk': ['predict', 'read-metadata'],
    });
    expect(g.kubernetes.map(k => [k.roleName, k.groups])).toEqual([
      ['tensorflow-admin', ['group:default/ml-platform']],
      ['tensorflow-read-metadata', ['group:default/risk']],
    ]);
    expect(g.github).toEqual([
      {
        group: 'group:default/ml-platform',
        permission: 'maintain',
        scopes: ['admin'],
      },
      {
        group: 'group:default/risk',
        permission: 'pull',
        scopes: ['predict', 'read-metadata'],
      },
    ]);
    expect(
      g.gateway.find(x => x.group === 'group:default/risk')!.routes,
    ).toEqual([
      {
        methods: ['POST'],
        paths: [
          '/v1/models/fraud-detector:predict',
          '/v1/models/fraud-detector:classify',
          '/v1/models/fraud-detector:regress',
        ],
      },
      {
        methods: ['GET'],
        paths: [
          '/v1/models/fraud-detector',
          '/v1/models/fraud-detector/metadata',
        ],
      },
    ]);
  });

  it('resolves resourceNames placeholders to the project and never grants cluster-wide', () => {
    const g = computeGrants(DEFAULT_ACCESS_POLICY, project, {});
    const deploy = computeGrants(
      {
        ...DEFAULT_ACCESS_POLICY,
        rules: {
          ...DEFAULT_ACCESS_POLICY.rules,
          ownerDefaultScopes: ['deploy'],
        },
      },
      project,
    ).kubernetes[0];
    expect(deploy.rules).toContainEqual({
      apiGroups: ['apps'],
      resources: ['deployments'],
      verbs: ['get', 'list', 'watch'],
    });
    const named = computeGrants(
      {
        ...DEFAULT_ACCESS_POLICY,
        scopes: {
          ...DEFAULT_ACCESS_POLICY.scopes,
          deploy: {
            ...DEFAULT_ACCESS_POLICY.scopes.deploy,
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
        },
        rules: {
          ...DEFAULT_ACCESS_POLICY.rules,
          ownerDefaultScopes: ['deploy'],
        },
      },
      project,
    ).kubernetes[0];
    expect(named.rules).toEqual([
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        resourceNames: ['fraud-detector'],
        verbs: ['get'],
      },
    ]);
    expect(JSON.stringify(g)).not.toMatch(/serviceaccounts\/token|"\*"/);
  });

  it('refuses scopes the policy does not allow for a group, naming group, scope and what is allowed', () => {
    expect(() =>
      computeGrants(DEFAULT_ACCESS_POLICY, project, {
        'group:default/risk': ['deploy'],
      }),
    ).toThrow(
      /grants\.group:default\/risk: the access policy does not allow granting "deploy" to group:default\/risk on this project; allowed: predict, read-metadata/,
    );
    expect(() =>
      computeGrants(DEFAULT_ACCESS_POLICY, project, {
        'group:default/risk': ['root'],
      }),
    ).toThrow(/unknown scope "root"/);
    expect(() =>
      computeGrants(DEFAULT_ACCESS_POLICY, project, {
        'user:default/bob': ['predict'],
      }),
    ).toThrow(/is not a group ref/);
  });
});

describe('computeGrants with other policies', () => {
  const sre = parseAccessPolicy({
    rules: {
      ownerDefaultScopes: ['deploy', 'read-metadata'],
      grantable: ['predict'],
      groups: [
        { group: 'group:default/sre', scopes: ['deploy', 'read-metadata'] },
      ],
      adminGroups: ['group:default/platform-admins'],
    },
  });

  it('applies per-group allow-lists and owner defaults', () => {
    expect(allowedScopesFor(sre, project, 'group:default/sre')).toEqual([
      'deploy',
      'predict',
      'read-metadata',
    ]);
    expect(allowedScopesFor(sre, project, 'group:default/risk')).toEqual([
      'predict',
    ]);
    const g = computeGrants(sre, project, {
      sre: ['deploy'],
      'group:default/risk': ['predict'],
    });
    expect(g.groups).toEqual({
      'group:default/ml-platform': ['deploy', 'read-metadata'],
      'group:default/risk': ['predict'],
      'group:default/sre': ['deploy'],
    });
    expect(g.kubernetes.find(k => k.scope === 'deploy')!.groups).toEqual([
      'group:default/ml-platform',
      'group:default/sre',
    ]);
    expect(g.github.map(x => [x.group, x.permission])).toEqual([
      ['group:default/ml-platform', 'push'],
      ['group:default/sre', 'push'],
    ]);
    expect(() =>
      computeGrants(sre, project, { 'group:default/risk': ['read-metadata'] }),
    ).toThrow(/allowed: predict/);
  });

  it('refuses a grant to the owner and a grant without scopes, naming the group', () => {
    expect(() =>
      computeGrants(sre, project, { 'group:default/ml-platform': ['predict'] }),
    ).toThrow(
      /grants.group:default\/ml-platform: group:default\/ml-platform owns the project and already gets .*; grant other groups only/,
    );
    expect(() =>
      computeGrants(
        sre,
        project,
        normaliseRequestedGrants([{ group: 'group:default/risk', scopes: [] }]),
      ),
    ).toThrow(
      /grants.group:default\/risk: no scope chosen; give group:default\/risk at least one scope, or remove the grant/,
    );
  });

  it('supports custom scopes mapped by permission', () => {
    const custom = parseAccessPolicy({
      scopes: {
        ...DEFAULT_ACCESS_POLICY.scopes,
        'read-logs': {
          description: 'Read pod logs',
          kubernetes: {
            rules: [
              { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
            ],
          },
          github: { permission: 'triage' },
        },
      },
      rules: { grantable: ['predict', 'read-logs'] },
    });
    const g = computeGrants(custom, project, {
      'group:default/oncall': ['read-logs'],
    });
    expect(g.kubernetes.find(k => k.scope === 'read-logs')).toEqual({
      scope: 'read-logs',
      roleName: 'tensorflow-read-logs',
      rules: [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }],
      groups: ['group:default/oncall'],
    });
    expect(g.github).toContainEqual({
      group: 'group:default/oncall',
      permission: 'triage',
      scopes: ['read-logs'],
    });
    expect(
      g.gateway.find(x => x.group === 'group:default/oncall'),
    ).toBeUndefined();
  });

  it('grants nothing beyond owner defaults when there are no requests', () => {
    const minimal = parseAccessPolicy({
      rules: { ownerDefaultScopes: ['predict'] },
    });
    const g = computeGrants(minimal, project);
    expect(g.groups).toEqual({ 'group:default/ml-platform': ['predict'] });
    expect(g.kubernetes).toEqual([]);
    expect(g.github).toEqual([]);
  });
});
