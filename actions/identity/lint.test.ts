import { DEFAULT_ACCESS_POLICY, parseAccessPolicy } from '../access/config';
import { lintRoleRules } from '../access/rbacRules';
import { lintManifests } from './lint';

const ns = 'ml-fraud-detector';
const meta = (name: string) => ({ name, namespace: ns });
const ackRole = (doc: unknown) => ({
  apiVersion: 'iam.services.k8s.aws/v1alpha1',
  kind: 'Role',
  metadata: meta('tf-x'),
  spec: {
    name: 'tf-x',
    assumeRolePolicyDocument:
      typeof doc === 'string' ? doc : JSON.stringify(doc),
  },
});
const oidc = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const fed = (condition: unknown) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: {
        Federated: `arn:aws:iam::123456789012:oidc-provider/${oidc}`,
      },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: condition,
    },
  ],
});
const rules = (findings: ReturnType<typeof lintManifests>) =>
  findings.map(f => f.rule);

describe('lintManifests finds deliberately bad policies', () => {
  it.each([
    [
      'trust without a subject condition',
      ackRole(fed({ StringEquals: { [`${oidc}:aud`]: 'sts.amazonaws.com' } })),
      ['trust-exact-subject'],
    ],
    [
      'trust with a wildcard subject (StringLike)',
      ackRole(
        fed({
          StringLike: { [`${oidc}:sub`]: 'system:serviceaccount:ml-x:*' },
          StringEquals: { [`${oidc}:aud`]: 'sts.amazonaws.com' },
        }),
      ),
      ['trust-no-wildcard', 'trust-exact-subject'],
    ],
    [
      'trust with "*" in an exact subject',
      ackRole(
        fed({
          StringEquals: {
            [`${oidc}:sub`]: 'repo:acme/*',
            [`${oidc}:aud`]: 'sts.amazonaws.com',
          },
        }),
      ),
      ['trust-exact-subject'],
    ],
    [
      'trust without audience',
      ackRole(
        fed({
          StringEquals: { [`${oidc}:sub`]: 'system:serviceaccount:ml-x:sa' },
        }),
      ),
      ['trust-audience'],
    ],
    ['trust that is not JSON', ackRole('{not json'), ['trust-policy-json']],
    [
      'pod identity trust without namespace tag',
      ackRole({
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Condition: {
              StringEquals: {
                'aws:RequestTag/kubernetes-service-account': 'sa',
              },
            },
          },
        ],
      }),
      ['trust-exact-subject'],
    ],
    [
      'ClusterRole',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'x' },
        rules: [],
      },
      ['no-cluster-role'],
    ],
    [
      'RoleBinding to a ClusterRole',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: meta('x'),
        subjects: [],
        roleRef: {
          kind: 'ClusterRole',
          name: 'admin',
          apiGroup: 'rbac.authorization.k8s.io',
        },
      },
      ['no-cluster-role'],
    ],
    [
      'token minting',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: meta('x'),
        rules: [
          {
            apiGroups: [''],
            resources: ['serviceaccounts/token'],
            verbs: ['create'],
          },
        ],
      },
      ['no-token-minting'],
    ],
    [
      'wildcard and escalation verbs',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: meta('x'),
        rules: [
          { apiGroups: ['*'], resources: ['roles'], verbs: ['escalate'] },
        ],
      },
      ['no-wildcard-rbac', 'no-escalation'],
    ],
    [
      'exec, attach, port-forward, ephemeral containers',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: meta('x'),
        rules: [
          {
            apiGroups: [''],
            resources: [
              'pods/exec',
              'pods/attach',
              'pods/portforward',
              'pods/ephemeralcontainers',
            ],
            verbs: ['get', 'create', 'patch'],
          },
        ],
      },
      ['no-pod-access', 'no-pod-access', 'no-pod-access', 'no-pod-access'],
    ],
    [
      'scale',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: meta('x'),
        rules: [
          {
            apiGroups: ['apps'],
            resources: ['deployments/scale', 'statefulsets/scale'],
            verbs: ['patch', 'update'],
          },
        ],
      },
      ['no-scale', 'no-scale'],
    ],
    [
      'creating workloads that mount unreadable Secrets',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: meta('x'),
        rules: [
          {
            apiGroups: ['apps'],
            resources: ['deployments'],
            verbs: ['get', 'create'],
          },
          { apiGroups: [''], resources: ['pods'], verbs: ['patch'] },
          {
            apiGroups: ['serving.kserve.io'],
            resources: ['inferenceservices'],
            resourceNames: ['x'],
            verbs: ['update'],
          },
          {
            apiGroups: [''],
            resources: ['secrets'],
            resourceNames: ['one'],
            verbs: ['get'],
          },
        ],
      },
      ['no-workload-write', 'no-workload-write', 'no-workload-write'],
    ],
    [
      'automounted token',
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('sa') },
      ['no-automount'],
    ],
    [
      'token lifetime under 10 minutes and no audience',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta('d'),
        spec: {
          template: {
            spec: {
              volumes: [
                {
                  name: 't',
                  projected: {
                    sources: [
                      {
                        serviceAccountToken: {
                          path: 'token',
                          expirationSeconds: 300,
                        },
                      },
                    ],
                  },
                },
              ],
            },
          },
        },
      },
      ['token-lifetime', 'token-audience'],
    ],
    [
      'namespace-wide GCP principalSet',
      {
        apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
        kind: 'IAMPolicyMember',
        metadata: meta('m'),
        spec: {
          member:
            'principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/attribute.repository/acme/x',
          role: 'roles/iam.workloadIdentityUser',
        },
      },
      ['trust-exact-subject'],
    ],
    [
      'WIF provider pinned by name only',
      {
        apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
        kind: 'IAMWorkloadIdentityPoolProvider',
        metadata: meta('p'),
        spec: {
          attributeCondition: "assertion.repository == 'acme/x'",
          oidc: { allowedAudiences: [] },
        },
      },
      ['trust-exact-subject', 'trust-audience'],
    ],
  ])('%s', (_name, manifest, expected) => {
    const findings = lintManifests([manifest]);
    expect(rules(findings)).toEqual(expected);
    for (const f of findings)
      expect(f.message).toMatch(new RegExp(`^${manifest.kind} .+: .{10,}`));
  });

  it('allows writing workloads only together with reading every Secret they could mount', () => {
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta('x'),
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
      ],
    };
    expect(rules(lintManifests([role]))).toEqual([]);
  });

  it('refuses such scopes in the access policy at start-up, and the default scopes comply', () => {
    expect(() =>
      parseAccessPolicy({
        scopes: {
          ...DEFAULT_ACCESS_POLICY.scopes,
          deploy: {
            kubernetes: {
              rules: [
                {
                  apiGroups: [''],
                  resources: ['pods/exec'],
                  verbs: ['create'],
                },
              ],
            },
          },
        },
      }),
    ).toThrow(
      /tensorflow\.access\.scopes\.deploy\.kubernetes\.rules: \[no-pod-access\] rule 0 grants pods\/exec/,
    );
    expect(() =>
      parseAccessPolicy({
        scopes: {
          ...DEFAULT_ACCESS_POLICY.scopes,
          admin: {
            kubernetes: {
              rules: [
                {
                  apiGroups: ['apps'],
                  resources: ['deployments'],
                  verbs: ['create'],
                },
              ],
            },
          },
        },
      }),
    ).toThrow(/scopes\.admin\.kubernetes\.rules: \[no-workload-write\]/);
    for (const [name, scope] of Object.entries(DEFAULT_ACCESS_POLICY.scopes))
      expect({ name, findings: lintRoleRules(scope.kubernetes.rules) }).toEqual(
        { name, findings: [] },
      );
  });

  it('requires a default-deny NetworkPolicy per namespace when asked, accepting serving’s policies', () => {
    const sa = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta('sa'),
      automountServiceAccountToken: false,
    };
    expect(lintManifests([sa])).toEqual([]);
    expect(lintManifests([sa], { requireDefaultDeny: true })).toEqual([
      {
        rule: 'default-deny',
        resource: `Namespace ${ns}`,
        message: expect.stringContaining('no default-deny NetworkPolicy'),
      },
    ]);
    const allowGateway = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('allow'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{}],
      },
    };
    expect(
      rules(lintManifests([sa, allowGateway], { requireDefaultDeny: true })),
    ).toEqual(['default-deny']);
    const deny = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    };
    expect(
      lintManifests([sa, allowGateway, deny], { requireDefaultDeny: true }),
    ).toEqual([]);
  });
});
