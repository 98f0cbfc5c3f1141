import { InputError } from '@backstage/errors';
import type { ProjectGrants } from '../access/grants';
import { boundedName, type ModelProject } from '../shared/naming';
import { awsIdentity } from './aws';
import { ciContract } from './ciContract';
import type { IdentityConfig } from './config';
import { gcpIdentity } from './gcp';
import { kubernetesManifests } from './kubernetes';
import type {
  CiTrustRef,
  IdentityBundle,
  Manifest,
  RepositoryRef,
  WorkloadIdentityRef,
} from './types';

export { boundedName };

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
  const workloadIdentity: WorkloadIdentityRef = {
    provider: identity.provider,
    resources: [],
  };
  let ciTrust: CiTrustRef | undefined;

  const repo = args.repository;
  if (identity.ci.enabled) {
    if (
      !repo ||
      !Number.isInteger(repo.id) ||
      !Number.isInteger(repo.ownerId) ||
      repo.id <= 0 ||
      repo.ownerId <= 0
    ) {
      throw new InputError(
        'repository.id and repository.ownerId are required (positive integers) to pin the CI trust: pass ${{ steps.github.output.repositoryId }} and ${{ steps.github.output.repositoryOwnerId }} from tensorflow:github:configure',
      );
    }
  }
  const subjects: Record<string, string> = {};
  if (repo && identity.ci.enabled)
    for (const env of identity.ci.environments)
      subjects[env] = ciSubject(repo, env);

  const cloud = {
    project,
    identity,
    repo,
    subjects,
    contract,
    modelStorageUri: args.modelStorageUri,
    manifests,
    saAnnotations,
    workloadIdentity,
  };
  if (identity.provider === 'gke') ciTrust = gcpIdentity(cloud);
  if (
    identity.provider === 'eks-irsa' ||
    identity.provider === 'eks-pod-identity'
  )
    ciTrust = awsIdentity(cloud);

  return {
    manifests: [
      ...kubernetesManifests(project, grants, identity, saAnnotations),
      ...manifests,
    ],
    serviceAccount: { namespace: ns, name: sa, ref: `${ns}/${sa}` },
    workloadIdentity,
    ciTrust,
  };
}
