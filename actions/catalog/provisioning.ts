/**
 * The provisioning record kept in the model repository (`.backstage/provisioning.json`):
 * which identities, scopes, endpoint and GitOps change were made, by whom, when, in which task.
 * Built from values only (no secrets: refs, names, URLs without credentials, commit ids).
 */
import type { ModelProject } from '../shared/naming';

export { PROVISIONING_RECORD_FILE } from '../access/binding';
export const PROVISIONING_RECORD_VERSION = 1;

export interface GitOpsChangeRef {
  branch?: string;
  commit?: string;
  url?: string;
}

export interface ProvisioningRecordInput {
  project: Pick<ModelProject, 'name' | 'owner' | 'namespace'>;
  initiator: string;
  taskId: string;
  taskUrl: string;
  /** The checkpointed provisioned-at time (identical on retries). */
  provisionedAt: string;
  repoUrl: string;
  entityRefs: string[];
  catalogLocation: string;
  identity?: {
    /** `<namespace>/<name>` */
    serviceAccount: string;
    grants?: Record<string, string[]>;
    identities?: {
      provider?: string;
      principal?: string;
      resources?: string[];
    };
    gitops?: GitOpsChangeRef;
  };
  serving?: {
    namespace: string;
    restUrl: string;
    grpcUrl?: string;
    gatewayUrl?: string;
    gitops?: GitOpsChangeRef;
  };
}

/** Drops user info (user:password@) from a URL; non-URLs are returned as-is. */
export function withoutCredentials(value: string): string {
  try {
    const url = new URL(value);
    if (url.username || url.password) {
      url.username = '';
      url.password = '';
    }
    return url.toString();
  } catch {
    return value;
  }
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortDeep(v);
    }
    return out;
  }
  return value;
}

function gitopsRef(
  ref: GitOpsChangeRef | undefined,
): GitOpsChangeRef | undefined {
  if (!ref || (!ref.branch && !ref.commit && !ref.url)) return undefined;
  return {
    branch: ref.branch,
    commit: ref.commit,
    url: ref.url ? withoutCredentials(ref.url) : undefined,
  };
}

function sortedGrants(
  grants: Record<string, string[]> | undefined,
): Record<string, string[]> | undefined {
  if (!grants) return undefined;
  return Object.fromEntries(
    Object.entries(grants).map(([g, s]) => [g, [...new Set(s)].sort()]),
  );
}

/** The record as an object with sorted keys (stable across retries and runs). */
export function buildProvisioningRecord(
  input: ProvisioningRecordInput,
): Record<string, unknown> {
  const { identity, serving } = input;
  return sortDeep({
    version: PROVISIONING_RECORD_VERSION,
    project: {
      name: input.project.name,
      owner: input.project.owner,
      namespace: input.project.namespace,
    },
    provisionedBy: input.initiator,
    provisionedAt: input.provisionedAt,
    task: { id: input.taskId, url: input.taskUrl },
    repository: withoutCredentials(input.repoUrl),
    catalog: {
      location: input.catalogLocation,
      entityRefs: [...input.entityRefs].sort(),
    },
    identity: identity
      ? {
          serviceAccount: identity.serviceAccount,
          grants: sortedGrants(identity.grants),
          workloadIdentity: identity.identities
            ? {
                provider: identity.identities.provider,
                principal: identity.identities.principal,
                resources: identity.identities.resources
                  ? [...identity.identities.resources].sort()
                  : undefined,
              }
            : undefined,
          gitops: gitopsRef(identity.gitops),
        }
      : undefined,
    serving: serving
      ? {
          namespace: serving.namespace,
          restUrl: withoutCredentials(serving.restUrl),
          grpcUrl: serving.grpcUrl,
          gatewayUrl: serving.gatewayUrl
            ? withoutCredentials(serving.gatewayUrl)
            : undefined,
          gitops: gitopsRef(serving.gitops),
        }
      : undefined,
  }) as Record<string, unknown>;
}

/** JSON with sorted keys, two-space indent, trailing newline. */
export function serialiseProvisioningRecord(
  input: ProvisioningRecordInput,
): string {
  return `${JSON.stringify(buildProvisioningRecord(input), null, 2)}\n`;
}
