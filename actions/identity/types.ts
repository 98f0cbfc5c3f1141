/** The identity step's output types, shared by the per-cloud builders (gcp.ts, aws.ts) and kubernetes.ts. */
import type { ModelProject } from '../shared/naming';
import type { CiContract } from './ciContract';
import type { IdentityConfig } from './config';

/** A manifest as a plain object; serialised at the edge. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
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

/** What a per-cloud builder reads, and adds to: the manifests, the service account's annotations, the workload identity. */
export interface CloudIdentityInput {
  project: ModelProject;
  identity: IdentityConfig;
  /** The model repository, when the CI trust is enabled (checked by buildIdentityManifests). */
  repo?: RepositoryRef;
  /** Exact CI subjects trusted, one per environment. */
  subjects: Record<string, string>;
  contract: CiContract;
  modelStorageUri?: string;
  manifests: Manifest[];
  saAnnotations: Record<string, string>;
  workloadIdentity: WorkloadIdentityRef;
}
