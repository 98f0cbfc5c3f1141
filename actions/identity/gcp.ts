/** GKE: the Google service account with workload identity, and the GitHub Actions trust (workload identity pool provider). */
import { CI_SUBJECT_CLAIM_KEYS } from '../shared/github/oidc';
import { boundedName } from '../shared/naming';
import { ciVariableValues } from './ciContract';
import { GITHUB_OIDC_ISSUER } from './config';
import { labels } from './kubernetes';
import type { CiTrustRef, CloudIdentityInput } from './types';

/** Adds the GKE manifests to `input`; returns the CI trust when CI is enabled. */
export function gcpIdentity(input: CloudIdentityInput): CiTrustRef | undefined {
  const {
    project,
    identity,
    repo,
    subjects,
    contract,
    modelStorageUri,
    manifests,
    saAnnotations,
    workloadIdentity,
  } = input;
  const ns = project.namespace;
  const sa = project.serviceAccount;
  let ciTrust: CiTrustRef | undefined;
  const gke = identity.gke!;
  const ccNs = gke.configConnectorNamespace ?? ns;
  const gsa = boundedName('tf-', project.name, 30);
  const email = `${gsa}@${gke.projectId}.iam.gserviceaccount.com`;
  saAnnotations['iam.gke.io/gcp-service-account'] = email;
  manifests.push({
    apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
    kind: 'IAMServiceAccount',
    metadata: {
      name: gsa,
      namespace: ccNs,
      labels: labels(project),
      annotations: { 'cnrm.cloud.google.com/project-id': gke.projectId },
    },
    spec: {
      displayName: `TensorFlow serving for ${project.name}`,
      resourceID: gsa,
    },
  });
  manifests.push({
    apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
    kind: 'IAMPolicyMember',
    metadata: {
      name: `${gsa}-workload-identity`,
      namespace: ccNs,
      labels: labels(project),
    },
    spec: {
      member: `serviceAccount:${gke.projectId}.svc.id.goog[${ns}/${sa}]`,
      role: 'roles/iam.workloadIdentityUser',
      resourceRef: {
        apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
        kind: 'IAMServiceAccount',
        name: gsa,
      },
    },
  });
  workloadIdentity.principal = email;
  workloadIdentity.resources.push(
    `IAMServiceAccount/${gsa}`,
    `IAMPolicyMember/${gsa}-workload-identity`,
  );

  if (identity.ci.enabled && repo) {
    const pool = gke.ciWorkloadIdentityPool ?? 'github-actions';
    const providerId = boundedName('gh-', project.name, 32);
    const ciGsa = boundedName('tfci-', project.name, 30);
    const audience =
      identity.ci.audience ??
      `https://iam.googleapis.com/projects/${gke.projectNumber}/locations/global/workloadIdentityPools/${pool}/providers/${providerId}`;
    const poolPath = `projects/${gke.projectNumber}/locations/global/workloadIdentityPools/${pool}`;
    manifests.push({
      apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
      kind: 'IAMWorkloadIdentityPoolProvider',
      metadata: {
        name: providerId,
        namespace: ccNs,
        labels: labels(project),
        annotations: { 'cnrm.cloud.google.com/project-id': gke.projectId },
      },
      spec: {
        resourceID: providerId,
        location: 'global',
        projectRef: { external: `projects/${gke.projectId}` },
        workloadIdentityPoolRef: {
          external: `projects/${gke.projectId}/locations/global/workloadIdentityPools/${pool}`,
        },
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
      metadata: {
        name: ciGsa,
        namespace: ccNs,
        labels: labels(project),
        annotations: { 'cnrm.cloud.google.com/project-id': gke.projectId },
      },
      spec: { displayName: `CI for ${project.name}`, resourceID: ciGsa },
    });
    for (const env of identity.ci.environments) {
      manifests.push({
        apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
        kind: 'IAMPolicyMember',
        metadata: {
          name: `${ciGsa}-${env.toLowerCase().replace(/_/g, '-')}`,
          namespace: ccNs,
          labels: labels(project),
        },
        spec: {
          member: `principal://iam.googleapis.com/${poolPath}/subject/${subjects[env]}`,
          role: 'roles/iam.workloadIdentityUser',
          resourceRef: {
            apiVersion: 'iam.cnrm.cloud.google.com/v1beta1',
            kind: 'IAMServiceAccount',
            name: ciGsa,
          },
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
        modelStorageUri,
      }),
    };
  }
  return ciTrust;
}
