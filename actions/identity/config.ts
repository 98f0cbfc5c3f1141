import type { Config } from '@backstage/config';
import { z } from 'zod';

export const TOKEN_MIN_SECONDS = 600;
export const TOKEN_MAX_SECONDS = 86400;
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export type WorkloadIdentityProvider =
  'none' | 'gke' | 'eks-irsa' | 'eks-pod-identity';

export interface IdentityConfig {
  provider: WorkloadIdentityProvider;
  gke?: {
    projectId: string;
    /** Numeric project number; needed for GitHub Actions workload identity federation principals. */
    projectNumber?: string;
    /** Namespace holding Config Connector resources; default: the project namespace. */
    configConnectorNamespace?: string;
    /** Workload identity pool used for GitHub Actions (CI trust). */
    ciWorkloadIdentityPool?: string;
  };
  aws?: {
    accountId: string;
    /** AWS region of the cluster and the model bucket; GitHub Actions needs it (AWS_REGION). */
    region?: string;
    /** EKS cluster OIDC provider host/path without scheme, e.g. `oidc.eks.eu-west-1.amazonaws.com/id/ABC` (IRSA). */
    oidcProvider?: string;
    /** EKS cluster name (Pod Identity). */
    clusterName?: string;
    /** EKS cluster ARN (Pod Identity trust condition). */
    clusterArn?: string;
    /** IAM path for generated roles, e.g. `/tensorflow/`. */
    rolePath: string;
    /** Optional permissions boundary attached to every generated role. */
    permissionsBoundaryArn?: string;
  };
  token: { audience: string; expirationSeconds: number };
  ci: {
    /** Create a cloud trust for the model repository's GitHub Actions. */
    enabled: boolean;
    /** GitHub environments trusted (each gets an exact subject). */
    environments: string[];
    /** Audience the workflow requests; default per cloud. */
    audience?: string;
  };
  /** Prefix the cluster's OIDC groups claim carries, e.g. `oidc:` → `oidc:ml-platform`. */
  groupsClaimPrefix: string;
}

const ID = /^[a-z0-9][a-z0-9-]*$/;
const schema = z
  .object({
    provider: z
      .enum(['none', 'gke', 'eks-irsa', 'eks-pod-identity'])
      .optional(),
    gke: z
      .object({
        projectId: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
          message: 'must be a GCP project id',
        }),
        projectNumber: z
          .string()
          .regex(/^\d+$/, { message: 'must be the numeric project number' })
          .optional(),
        configConnectorNamespace: z.string().regex(ID).optional(),
        ciWorkloadIdentityPool: z.string().regex(ID).optional(),
      })
      .strict()
      .optional(),
    aws: z
      .object({
        accountId: z
          .string()
          .regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' }),
        region: z
          .string()
          .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, {
            message: 'must be an AWS region such as eu-west-1',
          })
          .optional(),
        oidcProvider: z
          .string()
          .regex(/^[A-Za-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/, {
            message: 'must be the OIDC provider without https://',
          })
          .optional(),
        clusterName: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/)
          .optional(),
        clusterArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]+$/,
          )
          .optional(),
        rolePath: z
          .string()
          .regex(/^\/([A-Za-z0-9_+=,.@-]+\/)*$/, {
            message: 'must start and end with "/"',
          })
          .optional(),
        permissionsBoundaryArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/.+$/)
          .optional(),
      })
      .strict()
      .optional(),
    token: z
      .object({
        audience: z.string().min(1).optional(),
        expirationSeconds: z
          .number()
          .int()
          .min(TOKEN_MIN_SECONDS, {
            message: `must be at least ${TOKEN_MIN_SECONDS} (Kubernetes minimum)`,
          })
          .max(TOKEN_MAX_SECONDS, {
            message: `must be at most ${TOKEN_MAX_SECONDS}`,
          })
          .optional(),
      })
      .strict()
      .optional(),
    ci: z
      .object({
        enabled: z.boolean().optional(),
        environments: z
          .array(z.string().regex(/^[A-Za-z0-9_-]+$/))
          .min(1)
          .optional(),
        audience: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    groupsClaimPrefix: z
      .string()
      .regex(/^[A-Za-z0-9:_./-]*$/)
      .optional(),
  })
  .strict();

export class IdentityConfigError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`Invalid identity config at ${key}: ${detail}`);
    this.name = 'IdentityConfigError';
  }
}

/** Validates a plain `tensorflow.identity` object and fills in defaults. */
export function parseIdentityConfig(
  raw: unknown,
  prefix = 'tensorflow.identity',
): IdentityConfig {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.reduce<string>(
      (a, p) => (typeof p === 'number' ? `${a}[${p}]` : `${a}.${p}`),
      prefix,
    );
    throw new IdentityConfigError(key, issue.message);
  }
  const v = parsed.data;
  const provider = v.provider ?? 'none';
  if (provider === 'gke' && !v.gke)
    throw new IdentityConfigError(
      `${prefix}.gke`,
      'provider "gke" needs gke.projectId',
    );
  if ((provider === 'eks-irsa' || provider === 'eks-pod-identity') && !v.aws) {
    throw new IdentityConfigError(
      `${prefix}.aws`,
      `provider "${provider}" needs aws.accountId`,
    );
  }
  if (provider === 'eks-irsa' && !v.aws?.oidcProvider) {
    throw new IdentityConfigError(
      `${prefix}.aws.oidcProvider`,
      'provider "eks-irsa" needs the cluster OIDC provider',
    );
  }
  if (provider === 'eks-pod-identity' && !v.aws?.clusterName) {
    throw new IdentityConfigError(
      `${prefix}.aws.clusterName`,
      'provider "eks-pod-identity" needs the EKS cluster name',
    );
  }
  const ciEnabled = v.ci?.enabled ?? provider !== 'none';
  if (ciEnabled && provider === 'none') {
    throw new IdentityConfigError(
      `${prefix}.ci.enabled`,
      'CI trust needs a cloud provider (gke, eks-irsa or eks-pod-identity)',
    );
  }
  if (ciEnabled && provider === 'gke' && !v.gke?.projectNumber) {
    throw new IdentityConfigError(
      `${prefix}.gke.projectNumber`,
      'CI trust on GCP needs the numeric project number',
    );
  }
  return {
    provider,
    gke: v.gke,
    aws: v.aws
      ? { ...v.aws, rolePath: v.aws.rolePath ?? '/tensorflow/' }
      : undefined,
    token: {
      audience: v.token?.audience ?? 'tensorflow-serving',
      expirationSeconds: v.token?.expirationSeconds ?? 3600,
    },
    ci: {
      enabled: ciEnabled,
      environments: v.ci?.environments ?? ['staging', 'production'],
      audience: v.ci?.audience,
    },
    groupsClaimPrefix: v.groupsClaimPrefix ?? 'oidc:',
  };
}

/** Reads and validates `tensorflow.identity`; call once at backend start-up. */
export function readIdentityConfig(config: Config): IdentityConfig {
  return parseIdentityConfig(config.getOptional('tensorflow.identity'));
}
