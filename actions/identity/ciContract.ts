import type { IdentityConfig } from './config';

/**
 * The one contract between the model repository's workflow (skeletons/model-project/.github/workflows/
 * model.yaml.hbs) and the steps that configure it: which GitHub Actions environment variables the
 * workflow reads for each cloud. tensorflow:identity:provision computes exactly these values
 * (ciTrust.variables) and tensorflow:github:configure sets exactly these names on the environments;
 * tensorflow:model:create renders the workflow for the same cloud. test/skeleton/ciContract.test.ts
 * compares the names the rendered workflow reads with the names the steps set, per cloud.
 */
export type CiCloud = 'gcp' | 'aws' | 'none';

export const CI_VARIABLES = {
  gcp: {
    GCP_WORKLOAD_IDENTITY_PROVIDER:
      'Full name of the workload identity provider (projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>)',
    GCP_SERVICE_ACCOUNT:
      "The project's CI service account (email), impersonated by google-github-actions/auth",
    MODEL_STORAGE_URI:
      "gs:// location TensorFlow Serving loads the model versions from (the serving step's storageUri)",
  },
  aws: {
    AWS_ROLE_ARN:
      "ARN of the project's CI role, assumed with the GitHub OIDC token",
    AWS_REGION:
      'AWS region of the cluster and bucket (aws-actions/configure-aws-credentials needs it)',
    MODEL_STORAGE_URI:
      "s3:// location TensorFlow Serving loads the model versions from (the serving step's storageUri)",
  },
  none: {},
} as const satisfies Record<CiCloud, Record<string, string>>;

/** Repository variables the workflow reads that the platform may set org-wide; no step sets them. */
export const OPTIONAL_REPOSITORY_VARIABLES = {
  TFJS_NODE_CDN_STORAGE:
    'Mirror of the libtensorflow download that @tensorflow/tfjs-node-gpu fetches at install time',
} as const;

export interface CiContract {
  cloud: CiCloud;
  /** True when the workflow publishes model versions (a cloud trust and object storage on the same cloud). */
  deploy: boolean;
  /** Environment variable names the workflow reads and the steps set. */
  variables: string[];
}

/** The cloud CI deploys to: the identity provider's, when CI trust is on and model storage is on that same cloud. */
function ciCloud(
  identity: Pick<IdentityConfig, 'provider' | 'ci'>,
  scheme: string,
): CiCloud {
  if (!identity.ci.enabled) return 'none';
  if (identity.provider === 'gke' && scheme === 'gs') return 'gcp';
  if (identity.provider.startsWith('eks') && scheme === 's3') return 'aws';
  return 'none';
}

/** The contract for the configured identity provider and model storage. */
export function ciContract(
  identity: Pick<IdentityConfig, 'provider' | 'ci'>,
  modelStorageBaseUri: string,
): CiContract {
  const scheme = modelStorageBaseUri.split(':')[0];
  const cloud = ciCloud(identity, scheme);
  return {
    cloud,
    deploy: cloud !== 'none',
    variables: Object.keys(CI_VARIABLES[cloud]).sort(),
  };
}

/** Values for the skeleton: `ci.gcp`, `ci.aws`, `ci.deploy` pick the workflow's deploy steps. */
export function ciSkeletonValues(contract: CiContract): {
  gcp: boolean;
  aws: boolean;
  deploy: boolean;
  cloud: CiCloud;
} {
  return {
    gcp: contract.cloud === 'gcp',
    aws: contract.cloud === 'aws',
    deploy: contract.deploy,
    cloud: contract.cloud,
  };
}

/**
 * The variable values of one project, keyed by the contract's names. Throws when the contract names a
 * variable the caller cannot fill, so the steps never set a partial set.
 */
export function ciVariableValues(
  contract: CiContract,
  values: {
    workloadIdentityProvider?: string;
    ciServiceAccount?: string;
    roleArn?: string;
    region?: string;
    modelStorageUri?: string;
  },
): Record<string, string> {
  const all: Record<string, string | undefined> = {
    GCP_WORKLOAD_IDENTITY_PROVIDER: values.workloadIdentityProvider,
    GCP_SERVICE_ACCOUNT: values.ciServiceAccount,
    AWS_ROLE_ARN: values.roleArn,
    AWS_REGION: values.region,
    MODEL_STORAGE_URI: values.modelStorageUri,
  };
  const out: Record<string, string> = {};
  for (const name of contract.variables) {
    const v = all[name];
    if (!v)
      throw new Error(
        `CI contract (${contract.cloud}) needs ${name}, which has no value`,
      );
    out[name] = v;
  }
  return out;
}

/** Start-up check: the configuration can fill every variable of its contract. */
export function assertCiContractConfig(
  identity: IdentityConfig,
  modelStorageBaseUri: string,
): CiContract {
  const contract = ciContract(identity, modelStorageBaseUri);
  if (contract.cloud === 'aws' && !identity.aws?.region) {
    throw new Error(
      'Invalid identity config at tensorflow.identity.aws.region: CI trust on AWS with s3:// model storage needs the region (the workflow reads AWS_REGION)',
    );
  }
  if (contract.cloud === 'gcp' && !identity.gke?.projectNumber) {
    throw new Error(
      'Invalid identity config at tensorflow.identity.gke.projectNumber: CI trust on GCP needs the numeric project number',
    );
  }
  return contract;
}
