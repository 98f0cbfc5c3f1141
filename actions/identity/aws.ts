/** EKS (IRSA or Pod Identity): the IAM role of the service account, and the GitHub Actions trust (an IAM role), as ACK resources. */
import { CI_SUBJECT_CLAIM_KEYS } from '../shared/github/oidc';
import { boundedName, type ModelProject } from '../shared/naming';
import { ciVariableValues } from './ciContract';
import type { IdentityConfig } from './config';
import { labels } from './kubernetes';
import type { CiTrustRef, CloudIdentityInput, Manifest } from './types';

function iamRoleArn(
  aws: NonNullable<IdentityConfig['aws']>,
  roleName: string,
): string {
  return `arn:aws:iam::${aws.accountId}:role${aws.rolePath}${roleName}`;
}

function ackRole(
  project: ModelProject,
  aws: NonNullable<IdentityConfig['aws']>,
  roleName: string,
  description: string,
  trust: object,
): Manifest {
  return {
    apiVersion: 'iam.services.k8s.aws/v1alpha1',
    kind: 'Role',
    metadata: {
      name: roleName,
      namespace: project.namespace,
      labels: labels(project),
    },
    spec: {
      name: roleName,
      path: aws.rolePath,
      description,
      maxSessionDuration: 3600,
      assumeRolePolicyDocument: JSON.stringify(trust),
      ...(aws.permissionsBoundaryArn
        ? { permissionsBoundary: aws.permissionsBoundaryArn }
        : {}),
      tags: [
        { key: 'backstage.io/owner', value: project.owner },
        { key: 'tensorflow/project', value: project.name },
      ],
    },
  };
}

/** Adds the EKS manifests to `input`; returns the CI trust when CI is enabled. */
export function awsIdentity(input: CloudIdentityInput): CiTrustRef | undefined {
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
            Principal: {
              Federated: `arn:aws:iam::${aws.accountId}:oidc-provider/${p}`,
            },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                [`${p}:sub`]: `system:serviceaccount:${ns}:${sa}`,
                [`${p}:aud`]: 'sts.amazonaws.com',
              },
            },
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
      spec: {
        clusterName: aws.clusterName,
        namespace: ns,
        serviceAccount: sa,
        roleARN: arn,
      },
    });
    workloadIdentity.resources.push(
      `Role/${roleName}`,
      `PodIdentityAssociation/${sa}`,
    );
  }
  workloadIdentity.principal = arn;

  if (identity.ci.enabled && repo) {
    const ciRole = boundedName('tfci-', project.name, 64);
    const audience = identity.ci.audience ?? 'sts.amazonaws.com';
    const gh = 'token.actions.githubusercontent.com';
    manifests.push(
      ackRole(
        project,
        aws,
        ciRole,
        `GitHub Actions of repository ${repo.id} (${identity.ci.environments.join(', ')})`,
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: {
                Federated: `arn:aws:iam::${aws.accountId}:oidc-provider/${gh}`,
              },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: {
                StringEquals: {
                  [`${gh}:aud`]: audience,
                  [`${gh}:sub`]: identity.ci.environments.map(e => subjects[e]),
                },
              },
            },
          ],
        },
      ),
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
      variables: ciVariableValues(contract, {
        roleArn: ciArn,
        region: aws.region,
        modelStorageUri,
      }),
    };
  }
  return ciTrust;
}
