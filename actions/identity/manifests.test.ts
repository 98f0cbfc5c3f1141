import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { DEFAULT_ACCESS_POLICY } from '../access/config';
import { computeGrants } from '../access/grants';
import { deriveProject } from '../shared/naming';
import { parseIdentityConfig } from './config';
import { lintManifests } from './lint';
import { projectedTokenVolume } from './kubernetes';
import { boundedName, buildIdentityManifests } from './manifests';
import type { Manifest } from './types';

const project = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  { namespacePrefix: 'ml-' },
);
const grants = computeGrants(DEFAULT_ACCESS_POLICY, project, {
  'group:default/risk': ['predict', 'read-metadata'],
});
const repository = {
  owner: 'acme',
  name: 'fraud-detector',
  id: 74,
  ownerId: 65,
};

const providers = {
  none: parseIdentityConfig({}),
  gke: parseIdentityConfig({
    provider: 'gke',
    gke: { projectId: 'acme-ml-prod', projectNumber: '123456789' },
  }),
  'eks-irsa': parseIdentityConfig({
    provider: 'eks-irsa',
    aws: {
      accountId: '123456789012',
      oidcProvider: 'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF',
    },
  }),
  'eks-pod-identity': parseIdentityConfig({
    provider: 'eks-pod-identity',
    aws: {
      accountId: '123456789012',
      clusterName: 'ml',
      clusterArn: 'arn:aws:eks:eu-west-1:123456789012:cluster/ml',
    },
  }),
};

function validateCore(manifests: Manifest[]) {
  for (const m of manifests) {
    if (m.apiVersion === 'v1' && m.kind === 'ServiceAccount')
      new ServiceAccount(m as any).validate();
    if (m.apiVersion === 'rbac.authorization.k8s.io/v1' && m.kind === 'Role')
      new Role(m as any).validate();
    if (
      m.apiVersion === 'rbac.authorization.k8s.io/v1' &&
      m.kind === 'RoleBinding'
    )
      new RoleBinding(m as any).validate();
  }
}
const find = (ms: Manifest[], apiVersion: string, kind: string) =>
  ms.filter(m => m.apiVersion === apiVersion && m.kind === kind);
const trust = (m: Manifest) =>
  JSON.parse((m.spec as any).assumeRolePolicyDocument);

describe('buildIdentityManifests', () => {
  it.each(Object.keys(providers))(
    '%s: schema-valid core objects, lint-clean, least-privilege RBAC',
    name => {
      const identity = providers[name as keyof typeof providers];
      const b = buildIdentityManifests({
        project,
        grants,
        identity,
        repository,
      });
      validateCore(b.manifests);
      expect(lintManifests(b.manifests)).toEqual([]);
      const [sa] = find(b.manifests, 'v1', 'ServiceAccount');
      expect(sa).toMatchObject({
        metadata: {
          name: 'fraud-detector-serving',
          namespace: 'ml-fraud-detector',
        },
        automountServiceAccountToken: false,
      });
      expect(b.manifests.some(m => /^Cluster/.test(m.kind))).toBe(false);
      expect(JSON.stringify(b.manifests)).not.toContain(
        'serviceaccounts/token',
      );
      const bindings = find(
        b.manifests,
        'rbac.authorization.k8s.io/v1',
        'RoleBinding',
      );
      expect(bindings.map(r => [r.metadata.name, (r as any).subjects])).toEqual(
        [
          [
            'tensorflow-admin',
            [
              {
                kind: 'Group',
                apiGroup: 'rbac.authorization.k8s.io',
                name: 'oidc:ml-platform',
              },
            ],
          ],
          [
            'tensorflow-read-metadata',
            [
              {
                kind: 'Group',
                apiGroup: 'rbac.authorization.k8s.io',
                name: 'oidc:risk',
              },
            ],
          ],
        ],
      );
      expect(bindings.every(r => (r as any).roleRef.kind === 'Role')).toBe(
        true,
      );
    },
  );

  it('none: no annotation, no cloud resources, no CI trust', () => {
    const b = buildIdentityManifests({
      project,
      grants,
      identity: providers.none,
    });
    expect(b.manifests.map(m => m.kind)).toEqual([
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'Role',
      'RoleBinding',
    ]);
    expect(b.manifests[0].metadata.annotations).toBeUndefined();
    expect(b.ciTrust).toBeUndefined();
  });

  it('gke: annotation, IAMServiceAccount + workloadIdentityUser for the exact KSA, CI provider pinned by numeric ids', () => {
    const b = buildIdentityManifests({
      project,
      grants,
      identity: providers.gke,
      repository,
      modelStorageUri: 'gs://acme-models/fraud-detector',
    });
    expect(b.manifests[0].metadata.annotations).toEqual({
      'iam.gke.io/gcp-service-account':
        'tf-fraud-detector@acme-ml-prod.iam.gserviceaccount.com',
    });
    const members = find(
      b.manifests,
      'iam.cnrm.cloud.google.com/v1beta1',
      'IAMPolicyMember',
    ).map(m => (m.spec as any).member);
    expect(members).toEqual([
      'serviceAccount:acme-ml-prod.svc.id.goog[ml-fraud-detector/fraud-detector-serving]',
      'principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github-actions/subject/repository_owner_id:65:repository_id:74:environment:staging',
      'principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github-actions/subject/repository_owner_id:65:repository_id:74:environment:production',
    ]);
    const [provider] = find(
      b.manifests,
      'iam.cnrm.cloud.google.com/v1beta1',
      'IAMWorkloadIdentityPoolProvider',
    );
    expect((provider.spec as any).attributeCondition).toBe(
      "assertion.repository_owner_id == '65' && assertion.repository_id == '74' && assertion.environment in ['staging', 'production']",
    );
    expect(b.ciTrust).toMatchObject({
      cloud: 'gcp',
      repositoryId: 74,
      claimKeys: ['repository_owner_id', 'repository_id', 'context'],
    });
    // exactly the CI contract's names (actions/identity/ciContract.ts)
    expect(Object.keys(b.ciTrust!.variables).sort()).toEqual([
      'GCP_SERVICE_ACCOUNT',
      'GCP_WORKLOAD_IDENTITY_PROVIDER',
      'MODEL_STORAGE_URI',
    ]);
    expect(b.ciTrust!.variables.GCP_WORKLOAD_IDENTITY_PROVIDER).toMatch(
      /providers\/gh-fraud-detector$/,
    );
    expect(b.ciTrust!.variables.MODEL_STORAGE_URI).toBe(
      'gs://acme-models/fraud-detector',
    );
  });

  it('eks-irsa: ACK Role trusting exactly system:serviceaccount:<ns>:<sa> with aud sts.amazonaws.com', () => {
    const b = buildIdentityManifests({
      project,
      grants,
      identity: providers['eks-irsa'],
      repository,
    });
    expect(b.manifests[0].metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn':
        'arn:aws:iam::123456789012:role/tensorflow/tf-fraud-detector',
    });
    const [irsa, ci] = find(
      b.manifests,
      'iam.services.k8s.aws/v1alpha1',
      'Role',
    );
    expect(trust(irsa).Statement[0]).toEqual({
      Effect: 'Allow',
      Principal: {
        Federated:
          'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF',
      },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF:sub':
            'system:serviceaccount:ml-fraud-detector:fraud-detector-serving',
          'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF:aud': 'sts.amazonaws.com',
        },
      },
    });
    expect(trust(ci).Statement[0].Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': [
          'repository_owner_id:65:repository_id:74:environment:staging',
          'repository_owner_id:65:repository_id:74:environment:production',
        ],
      },
    });
    expect(b.ciTrust).toMatchObject({
      cloud: 'aws',
      ref: 'aws:arn:aws:iam::123456789012:role/tensorflow/tfci-fraud-detector',
    });
  });

  it('eks-pod-identity: no annotation, PodIdentityAssociation and a tag-pinned pods.eks.amazonaws.com trust', () => {
    const b = buildIdentityManifests({
      project,
      grants,
      identity: providers['eks-pod-identity'],
      repository,
    });
    expect(b.manifests[0].metadata.annotations).toBeUndefined();
    const [pia] = find(
      b.manifests,
      'eks.services.k8s.aws/v1alpha1',
      'PodIdentityAssociation',
    );
    expect(pia.spec).toEqual({
      clusterName: 'ml',
      namespace: 'ml-fraud-detector',
      serviceAccount: 'fraud-detector-serving',
      roleARN: 'arn:aws:iam::123456789012:role/tensorflow/tf-fraud-detector',
    });
    const [role] = find(b.manifests, 'iam.services.k8s.aws/v1alpha1', 'Role');
    expect(trust(role).Statement[0]).toMatchObject({
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: {
          'aws:RequestTag/kubernetes-namespace': 'ml-fraud-detector',
          'aws:RequestTag/kubernetes-service-account': 'fraud-detector-serving',
        },
      },
    });
  });

  it('refuses CI trust without numeric repository ids', () => {
    expect(() =>
      buildIdentityManifests({ project, grants, identity: providers.gke }),
    ).toThrow(/repository.id and repository.ownerId are required/);
  });

  it('keeps cloud names within provider limits', () => {
    const long = 'a'.repeat(60);
    expect(boundedName('tf-', long, 30)).toHaveLength(30);
    expect(boundedName('tf-', long, 30)).not.toBe(
      boundedName('tf-', `${long}b`, 30),
    );
  });
});

describe('projectedTokenVolume', () => {
  it('gives an audience-bound, short-lived token that a Pod validates', () => {
    const { volume, volumeMount } = projectedTokenVolume({
      audience: 'tensorflow-serving',
    });
    expect(volume.projected.sources[0].serviceAccountToken).toEqual({
      path: 'token',
      audience: 'tensorflow-serving',
      expirationSeconds: 3600,
    });
    const pod = new Pod({
      metadata: { name: 'p', namespace: 'ml-fraud-detector' },
      spec: {
        serviceAccountName: 'fraud-detector-serving',
        automountServiceAccountToken: false,
        volumes: [volume],
        containers: [
          {
            name: 'tfserving',
            image: 'tensorflow/serving:2.18.0',
            volumeMounts: [volumeMount],
          },
        ],
      },
    });
    pod.validate();
    expect(lintManifests([pod.toJSON()])).toEqual([]);
  });

  it('refuses lifetimes below 600 s or above a day, and missing audiences', () => {
    expect(() =>
      projectedTokenVolume({ audience: 'x', expirationSeconds: 599 }),
    ).toThrow(/out of bounds/);
    expect(() =>
      projectedTokenVolume({ audience: 'x', expirationSeconds: 86401 }),
    ).toThrow(/out of bounds/);
    expect(() => projectedTokenVolume({ audience: '' })).toThrow(/audience/);
  });
});

describe('parseIdentityConfig', () => {
  it.each([
    [{ provider: 'azure' }, 'tensorflow.identity.provider'],
    [
      { token: { expirationSeconds: 300 } },
      'tensorflow.identity.token.expirationSeconds',
    ],
    [{ provider: 'gke' }, 'tensorflow.identity.gke'],
    [
      { provider: 'eks-irsa', aws: { accountId: '123456789012' } },
      'tensorflow.identity.aws.oidcProvider',
    ],
    [
      { provider: 'eks-irsa', aws: { accountId: '1234' } },
      'tensorflow.identity.aws.accountId',
    ],
    [{ ci: { enabled: true } }, 'tensorflow.identity.ci.enabled'],
  ])('rejects %j naming %s', (raw, key) => {
    expect(() => parseIdentityConfig(raw)).toThrow(
      `Invalid identity config at ${key}`,
    );
  });
  it('defaults to no cloud, a 1 h token and the oidc: groups prefix', () => {
    expect(parseIdentityConfig(undefined)).toMatchObject({
      provider: 'none',
      token: { audience: 'tensorflow-serving', expirationSeconds: 3600 },
      ci: { enabled: false },
      groupsClaimPrefix: 'oidc:',
    });
  });
});
