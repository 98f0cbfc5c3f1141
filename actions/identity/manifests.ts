import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { ProjectGrants } from '../access/grants';
import { boundedName, type ModelProject } from '../shared/naming';
import { ciContract, ciVariableValues } from './ci-contract';

export { boundedName };
import { GITHUB_OIDC_ISSUER, TOKEN_MAX_SECONDS, TOKEN_MIN_SECONDS, type IdentityConfig } from './config';
import { CI_SUBJECT_CLAIM_KEYS } from '../shared/github/oidc';

/** A manifest as a plain object; serialised at the edge. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The model repository; numeric ids pin the CI trust (they survive renames). */
export interface RepositoryRef {
  owner: string;
  name: string;
  id: number;
  ownerId: number;
}


/** Reference to the CI trust that tensorflow:github:configure requires before it customises the subject claim. */
export interface CiTrustRef {
  /** Stable reference: `<cloud>:<resource>` (IAM role ARN or workload identity provider name). */
  ref: string;
  cloud: 'aws' | 'gcp';
  repositoryId: number;
  repositoryOwnerId: number;
  claimKeys: string[];
  /** Exact subjects trusted, one per environment. */
  subjects: Record<string, string>;
  audience: string;
  /** Non-secret values for the environments' variables. */
  variables: Record<string, string>;
}

export interface WorkloadIdentityRef {
  provider: IdentityConfig['provider'];
  /** GCP service account email, or IAM role ARN. */
  principal?: string;
  resources: string[];
}

export interface IdentityBundle {
  manifests: Manifest[];
  serviceAccount: { namespace: string; name: string; ref: string };
  workloadIdentity: WorkloadIdentityRef;
  ciTrust?: CiTrustRef;
}

const MANAGED_BY = 'backstage-tensorflow';
const RBAC = 'rbac.authorization.k8s.io';

function labels(project: ModelProject): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': MANAGED_BY, 'app.kubernetes.io/part-of': project.name };
}

/** Group name as the cluster's OIDC groups claim carries it. */
export function oidcGroupName(groupRef: string, prefix: string): string {
  const ref = parseEntityRef(groupRef, { defaultKind: 'group', defaultNamespace: 'default' });
  return `${prefix}${ref.namespace === 'default' ? ref.name : `${ref.namespace}/${ref.name}`}`;
}

/**
 * The projected service-account token the serving workload mounts: bound to an
 * audience, short-lived (default 3600 s, never below 600 s), rotated by the kubelet.
 */
export function projectedTokenVolume(
  token: { audience: string; expirationSeconds?: number },
  options: { name?: string; mountPath?: string } = {},
) {
  const expirationSeconds = token.expirationSeconds ?? 3600;
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < TOKEN_MIN_SECONDS || expirationSeconds > TOKEN_MAX_SECONDS) {
    throw new InputError(`token.expirationSeconds ${expirationSeconds} is out of bounds: use ${TOKEN_MIN_SECONDS}..${TOKEN_MAX_SECONDS}`);
  }
  if (!token.audience) throw new InputError('token.audience is required: recipients must check the audience');
  const name = options.name ?? 'workload-token';
  return {
    volume: {
      name,
      projected: { sources: [{ serviceAccountToken: { path: 'token', audience: token.audience, expirationSeconds } }] },
    },
    volumeMount: { name, mountPath: options.mountPath ?? '/var/run/secrets/tensorflow/serviceaccount', readOnly: true },
  };
}

function iamRoleArn(aws: NonNullable<IdentityConfig['aws']>, roleName: string): string {
  return `arn:aws:iam::${aws.accountId}:role${aws.rolePath}${roleName}`;
}

function ackRole(project: ModelProject, aws: NonNullable<IdentityConfig['aws']>, roleName: string, description: string, trust: object): Manifest {
  return {
    apiVersion: 'iam.services.k8s.aws/v1alpha1',
    kind: 'Role',
    metadata: { name: roleName, namespace: project.namespace, labels: labels(project) },
    spec: {
      name: roleName,
      path: aws.rolePath,
      description,
      maxSessionDuration: 3600,
      assumeRolePolicyDocument: JSON.stringify(trust),
      ...(aws.permissionsBoundaryArn ? { permissionsBoundary: aws.permissionsBoundaryArn } : {}),
      tags: [
        { key: 'backstage.io/owner', value: project.owner },
        { key: 'tensorflow/project', value: project.name },
      ],
    },
  };
}

export function ciSubject(repo: RepositoryRef, environment: string): string {
  return `repository_owner_id:${repo.ownerId}:repository_id:${repo.id}:environment:${environment}`;
}

/**
 * Every identity manifest for one project: ServiceAccount, Role/RoleBinding per
 * granted scope, cloud workload identity, and the CI trust for the model
 * repository. Pure: values in, objects out.
 */
export function buildIdentityManifests(args: {
  project: ModelProject;
  grants: ProjectGrants;
  identity: IdentityConfig;
  repository?: RepositoryRef;
  /** Where serving loads this project's model (`<modelStorageBaseUri>/<project>`): the CI contract's MODEL_STORAGE_URI. */
  modelStorageUri?: string;
}): IdentityBundle {
  const { project, grants, identity } = args;
  const contract = ciContract(identity, args.modelStorageUri ?? '');
  const ns = project.namespace;
  const sa = project.serviceAccount;
  const manifests: Manifest[] = [];
  const saAnnotations: Record<string, string> = {};
  const workloadIdentity: WorkloadIdentityRef = { provider: identity.provider, resources: [] };
  let ciTrust: CiTrustRef | undefined;

  const repo = args.repository;
  if (identity.ci.enabled) {
    if (!repo || !Number.isInteger(repo.id) || !Number.isInteger(repo.ownerId) || repo.id <= 0 || repo.ownerId <= 0) {
      throw new InputError(
        'repository.id and repository.ownerId are required (positive integers) to pin the CI trust: pass ${{ steps.github.output.repositoryId }} and ${{ steps.github.output.repositoryOwnerId }} from tensorflow:github:configure',
      );
    }
  }
  const subjects: Record<string, string> = {};
  if (repo && identity.ci.enabled) for (const env of identity.ci.environments) subjects[env] = ciSubject(repo, env);

  if (identity.provider === 'gke') {
    const gke = identity.gke!;
    const ccNs = gke.configConnectorNamespace ?? ns;
    const gsa = boundedName('tf-', project.name, 30);
    const email = `${gsa}@${gke.projectId}.iam.gserviceaccount.com`;
    saAnnotations['iam.gke.io/gcp-service-account'] = email;
    manifests.push({
      apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
      kind: 'IAMServiceAccount',
      metadata: { name: gsa, namespace: ccNs, labels: labels(project), annotations: { 'cnrm.cloud.google.com/project-id': gke.projectId } },
      spec: { displayName: `TensorFlow serving for ${project.name}`, resourceID: gsa },
    });
    manifests.push({
      apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
      kind: 'IAMPolicyMember',
      metadata: { name: `${gsa}-workload-identity`, namespace: ccNs, labels: labels(project) },
      spec: {
        member: `serviceAccount:${gke.projectId}.svc.id.goog[${ns}/${sa}]`,
        role: 'roles/iam.workloadIdentityUser',
        resourceRef: { apiVersion: 'iam.cnrm.cloud.google.com/v1beta1', kind: 'IAMServiceAccount', name: gsa },
      },
    });
    workloadIdentity.principal = email;
    workloadIdentity.resources.push(`IAMServiceAccount/${gsa}`, `IAMPolicyMember/${gsa}-workload-identity`);

    if (identity.ci.enabled && repo) {
      const pool = gke.ciWorkloadIdentityPool ?? 'github-actions';
      const providerId = boundedName('gh-', project.name, 32);
      const ciGsa = boundedName('tfci-', project.name, 30);
      const audience = identity.ci.audience ?? `https://iam.googleapis.com/projects/${gke.projectNumber}/locations/global/workloadIdentityPools/${pool}/providers/${providerId}`;
      const poolPath = `projects/${gke.projectNumber}/locations/global/workloadIdentityPools/${pool}`;
      manifests.push({
        apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
        kind: 'IAMWorkloadIdentityPoolProvider',
        metadata: { name: providerId, namespace: ccNs, labels: labels(project), annotations: { 'cnrm.cloud.google.com/project-id': gke.projectId } },
        spec: {
          resourceID: providerId,
          location: 'global',
          projectRef: { external: `projects/${gke.projectId}` },
          workloadIdentityPoolRef: { external: `projects/${gke.projectId}/locations/global/workloadIdentityPools/${pool}` },
          attributeMapping: {
            'google.subject': 'assertion.sub',
            'attribute.repository_id': 'assertion.repository_id',
            'attribute.repository_owner_id': 'assertion.repository_owner_id',
            'attribute.environment': 'assertion.environment',
          },
          attributeCondition: `assertion.repository_owner_id == '${repo.ownerId}' && assertion.repository_id == '${repo.id}' && assertion.environment in [${identity.ci.environments.map(e => `'${e}'`).join(', ')}]`,
          oidc: { issuerUri: GITHUB_OIDC_ISSUER, allowedAudiences: [audience] },
        },
      });
      manifests.push({
        apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
        kind: 'IAMServiceAccount',
        metadata: { name: ciGsa, namespace: ccNs, labels: labels(project), annotations: { 'cnrm.cloud.google.com/project-id': gke.projectId } },
        spec: { displayName: `CI for ${project.name}`, resourceID: ciGsa },
      });
      for (const env of identity.ci.environments) {
        manifests.push({
          apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
          kind: 'IAMPolicyMember',
          metadata: { name: `${ciGsa}-${env.toLowerCase().replace(/_/g, '-')}`, namespace: ccNs, labels: labels(project) },
          spec: {
            member: `principal://iam.googleapis.com/${poolPath}/subject/${subjects[env]}`,
            role: 'roles/iam.workloadIdentityUser',
            resourceRef: { apiVersion: 'iam.cnrm.cloud.google.com/v1beta1', kind: 'IAMServiceAccount', name: ciGsa },
          },
        });
      }
      const providerName = `${poolPath}/providers/${providerId}`;
      ciTrust = {
        ref: `gcp:${providerName}`,
        cloud: 'gcp',
        repositoryId: repo.id,
        repositoryOwnerId: repo.ownerId,
        claimKeys: [...CI_SUBJECT_CLAIM_KEYS],
        subjects,
        audience,
        variables: ciVariableValues(contract, {
          workloadIdentityProvider: providerName,
          ciServiceAccount: `${ciGsa}@${gke.projectId}.iam.gserviceaccount.com`,
          modelStorageUri: args.modelStorageUri,
        }),
      };
    }
  }

  if (identity.provider === 'eks-irsa' || identity.provider === 'eks-pod-identity') {
    const aws = identity.aws!;
    const roleName = boundedName('tf-', project.name, 64);
    const arn = iamRoleArn(aws, roleName);
    if (identity.provider === 'eks-irsa') {
      const p = aws.oidcProvider!;
      saAnnotations['eks.amazonaws.com/role-arn'] = arn;
      manifests.push(
        ackRole(project, aws, roleName, `IRSA role of ${ns}/${sa}`, {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Federated: `arn:aws:iam::${aws.accountId}:oidc-provider/${p}` },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: { StringEquals: { [`${p}:sub`]: `system:serviceaccount:${ns}:${sa}`, [`${p}:aud`]: 'sts.amazonaws.com' } },
            },
          ],
        }),
      );
      workloadIdentity.resources.push(`Role/${roleName}`);
    } else {
      const cond: Record<string, string> = {
        'aws:RequestTag/kubernetes-namespace': ns,
        'aws:RequestTag/kubernetes-service-account': sa,
      };
      if (aws.clusterArn) cond['aws:RequestTag/eks-cluster-arn'] = aws.clusterArn;
      manifests.push(
        ackRole(project, aws, roleName, `EKS Pod Identity role of ${ns}/${sa}`, {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'pods.eks.amazonaws.com' },
              Action: ['sts:AssumeRole', 'sts:TagSession'],
              Condition: { StringEquals: cond },
            },
          ],
        }),
      );
      manifests.push({
        apiVersion: 'eks.services.k8s.aws/v1alpha1',
        kind: 'PodIdentityAssociation',
        metadata: { name: sa, namespace: ns, labels: labels(project) },
        spec: { clusterName: aws.clusterName, namespace: ns, serviceAccount: sa, roleARN: arn },
      });
      workloadIdentity.resources.push(`Role/${roleName}`, `PodIdentityAssociation/${sa}`);
    }
    workloadIdentity.principal = arn;

    if (identity.ci.enabled && repo) {
      const ciRole = boundedName('tfci-', project.name, 64);
      const audience = identity.ci.audience ?? 'sts.amazonaws.com';
      const gh = 'token.actions.githubusercontent.com';
      manifests.push(
        ackRole(project, aws, ciRole, `GitHub Actions of repository ${repo.id} (${identity.ci.environments.join(', ')})`, {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Federated: `arn:aws:iam::${aws.accountId}:oidc-provider/${gh}` },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: {
                StringEquals: { [`${gh}:aud`]: audience, [`${gh}:sub`]: identity.ci.environments.map(e => subjects[e]) },
              },
            },
          ],
        }),
      );
      const ciArn = iamRoleArn(aws, ciRole);
      ciTrust = {
        ref: `aws:${ciArn}`,
        cloud: 'aws',
        repositoryId: repo.id,
        repositoryOwnerId: repo.ownerId,
        claimKeys: [...CI_SUBJECT_CLAIM_KEYS],
        subjects,
        audience,
        variables: ciVariableValues(contract, { roleArn: ciArn, region: aws.region, modelStorageUri: args.modelStorageUri }),
      };
    }
  }

  const serviceAccount: Manifest = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: sa,
      namespace: ns,
      labels: labels(project),
      ...(Object.keys(saAnnotations).length ? { annotations: saAnnotations } : {}),
    },
    automountServiceAccountToken: false,
  };
  const rbac: Manifest[] = [];
  for (const g of grants.kubernetes) {
    rbac.push({
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: g.roleName, namespace: ns, labels: { ...labels(project), 'tensorflow/scope': g.scope } },
      rules: g.rules,
    });
    rbac.push({
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { name: g.roleName, namespace: ns, labels: { ...labels(project), 'tensorflow/scope': g.scope } },
      subjects: g.groups.map(group => ({ kind: 'Group', apiGroup: RBAC, name: oidcGroupName(group, identity.groupsClaimPrefix) })),
      roleRef: { kind: 'Role', apiGroup: RBAC, name: g.roleName },
    });
  }
  return {
    manifests: [serviceAccount, ...rbac, ...manifests],
    serviceAccount: { namespace: ns, name: sa, ref: `${ns}/${sa}` },
    workloadIdentity,
    ciTrust,
  };
}
