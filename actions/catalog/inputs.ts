/**
 * The checks tensorflow:catalog:register makes on its input beyond the JSON schema: the schema
 * (register.ts) bounds lengths and formats so the scaffolder refuses bad input first and the template
 * editor documents it; these functions re-check each value with an error naming the field and the fix
 * (the handler also runs without the scaffolder's validation, e.g. in tests and other runners), and
 * relate the values to the project (namespace, service account, access policy).
 */
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { allowedScopesFor } from '../access/grants';
import type { AccessPolicy } from '../access/config';
import type { ModelProject } from '../shared/naming';
import type { RepositoryPublisher } from '../repository/types';
import {
  ANNOTATIONS,
  normaliseGrants,
  type IdentityInfo,
  type ServingInfo,
  type SmokeSummary,
} from './entities';
import type { CatalogEntityNames } from './names';
import {
  normaliseSignature,
  type ModelSignature,
  type NormalisedSignature,
} from './signature';
import type { GitOpsChangeRef, ProvisioningRecordInput } from './provisioning';

/** Input limits, shared by the action's zod schema and the checks below. */
export const REGISTER_LIMITS = {
  description: 500,
  lifecycle: 63,
  repoUrl: 500,
  url: 2000,
  grpcUrl: 500,
  system: 255,
} as const;

/** A lifecycle: letters and digits joined by - _ . */
export const LIFECYCLE = /^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$/;
/** The lifecycle input: empty (the configured default) or a lifecycle, surrounding blanks allowed. */
export const LIFECYCLE_INPUT = /^\s*([a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*)?\s*$/;
/** An in-cluster gRPC address: no blanks. */
export const GRPC_ADDRESS = /^[^\s]{1,500}$/;
/** A git branch name as the GitOps steps output it. */
export const GIT_BRANCH = /^[A-Za-z0-9._/-]{1,250}$/;
/** A git commit id. */
export const GIT_COMMIT = /^[0-9a-f]{7,64}$/;
/** `re`, or the empty string (a step output that may be blank). */
export const orEmpty = (re: RegExp) => new RegExp(`^$|${re.source}`);

export function checkUrl(
  field: string,
  value: unknown,
  protocols: string[],
): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InputError(`${field} is required: give a URL`);
  if (value.length > 2000)
    throw new InputError(
      `${field} is ${value.length} characters long; give a URL of at most 2000`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(
      `${field} "${value.slice(0, 120)}" is not a URL; give an absolute URL such as "https://example.com/x"`,
    );
  }
  if (!protocols.includes(url.protocol)) {
    throw new InputError(
      `${field} "${value.slice(0, 120)}" must use ${protocols.join(' or ')}`,
    );
  }
  return value;
}

/** The top-level strings: description (trimmed), lifecycle (or the configured default), system. */
export function checkRegisterText(
  input: { description?: unknown; lifecycle?: unknown; system?: unknown },
  defaultLifecycle: string,
): { description: string; lifecycle: string; system?: string } {
  const description =
    typeof input.description === 'string' ? input.description.trim() : '';
  if (!description || description.length > REGISTER_LIMITS.description) {
    throw new InputError(
      `description is required: one line of at most ${REGISTER_LIMITS.description} characters describing the model`,
    );
  }
  const lc = input.lifecycle;
  if (
    lc !== undefined &&
    (typeof lc !== 'string' ||
      lc.length > REGISTER_LIMITS.lifecycle ||
      (lc.trim() !== '' && !LIFECYCLE.test(lc.trim())))
  ) {
    throw new InputError(
      `lifecycle "${String(lc).slice(0, 40)}" is not a lifecycle: use letters and digits joined by - _ . (at most 63), e.g. "experimental" or "production"`,
    );
  }
  if (input.system !== undefined && typeof input.system !== 'string') {
    throw new InputError(
      'system must be a System ref such as "system:default/fraud" or "fraud"',
    );
  }
  return {
    description,
    lifecycle: (lc as string | undefined)?.trim() || defaultLifecycle,
    system: input.system as string | undefined,
  };
}

/** The publisher that handles `repoUrl` (the publish step's output). */
export function checkRepoUrl(
  repoUrl: unknown,
  publishers: RepositoryPublisher[],
): { repoUrl: string; publisher: RepositoryPublisher } {
  if (
    typeof repoUrl !== 'string' ||
    repoUrl === '' ||
    repoUrl.length > REGISTER_LIMITS.repoUrl
  ) {
    throw new InputError(
      `repoUrl is required: pass the repository of the model project (the publish step's repoUrl), at most ${REGISTER_LIMITS.repoUrl} characters`,
    );
  }
  const publisher = publishers.find(p => p.handles(repoUrl));
  if (!publisher) {
    throw new InputError(
      `repoUrl "${repoUrl.slice(0, 120)}" is not handled by any configured repository publisher; pass the publish step's repoUrl, e.g. "local?repo=fraud-detector"`,
    );
  }
  publisher.checkRepoUrl?.(repoUrl);
  return { repoUrl, publisher };
}

const isPlainObject = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The step outputs (serving, identity, model): each an object when given. */
export function checkStepOutputs(input: {
  serving?: unknown;
  identity?: unknown;
  model?: unknown;
}): void {
  if (input.identity !== undefined && !isPlainObject(input.identity)) {
    throw new InputError(
      "identity must be the identity step's outputs: { serviceAccount, grants }",
    );
  }
  if (input.serving !== undefined && !isPlainObject(input.serving)) {
    throw new InputError(
      "serving must be the serving step's outputs: { namespace, restUrl, grpcUrl?, gatewayUrl? }",
    );
  }
  if (input.model !== undefined && !isPlainObject(input.model)) {
    throw new InputError(
      'model must be an object { signature?, smoke? } from the validate step',
    );
  }
}

/** The identity step's outputs: the project's service account and grants the policy allows. */
export function checkIdentity(
  raw: { serviceAccount?: unknown; grants?: unknown } | undefined,
  project: ModelProject,
  policy: AccessPolicy | undefined,
): IdentityInfo | undefined {
  if (!raw) return undefined;
  const identity: IdentityInfo = {
    serviceAccount: checkServiceAccount(raw.serviceAccount, project),
    grants: raw.grants as Record<string, string[]> | undefined,
  };
  if (identity.grants !== undefined) {
    const grants = normaliseGrants(identity.grants);
    if (policy) checkGrantsAgainstPolicy(policy, project, grants);
  }
  return identity;
}

export function checkGrantsAgainstPolicy(
  policy: AccessPolicy,
  project: ModelProject,
  grants: Record<string, string[]>,
): void {
  for (const [group, scopes] of Object.entries(grants)) {
    const allowed = allowedScopesFor(policy, project, group);
    for (const scope of scopes) {
      if (!policy.scopes[scope]) {
        throw new InputError(
          `identity.grants["${group}"]: unknown scope "${scope}"; known scopes: ${Object.keys(policy.scopes).sort().join(', ')}`,
        );
      }
      if (!allowed.includes(scope)) {
        throw new InputError(
          `identity.grants["${group}"]: the access policy does not allow "${scope}" for ${group}; allowed: ${allowed.join(', ') || 'none'} (pass the identity step's grants output)`,
        );
      }
    }
  }
}

export function checkServing(
  serving: ServingInfo,
  project: ModelProject,
): ServingInfo {
  if (serving.namespace !== project.namespace) {
    throw new InputError(
      `serving.namespace "${String(serving.namespace).slice(0, 80)}" does not match the project namespace "${project.namespace}"; pass the serving step's namespace output`,
    );
  }
  const grpc = serving.grpcUrl;
  if (
    grpc !== undefined &&
    (typeof grpc !== 'string' || !GRPC_ADDRESS.test(grpc))
  ) {
    throw new InputError(
      'serving.grpcUrl must be the in-cluster gRPC address, e.g. "x.ns.svc.cluster.local:8500"',
    );
  }
  return {
    namespace: serving.namespace,
    restUrl: checkUrl('serving.restUrl', serving.restUrl, ['http:', 'https:']),
    ...(grpc ? { grpcUrl: grpc } : {}),
    ...(serving.gatewayUrl
      ? {
          gatewayUrl: checkUrl('serving.gatewayUrl', serving.gatewayUrl, [
            'http:',
            'https:',
          ]),
        }
      : {}),
    ...(serving.gitopsUrl
      ? {
          gitopsUrl: checkUrl('serving.gitopsUrl', serving.gitopsUrl, [
            'http:',
            'https:',
            'file:',
          ]),
        }
      : {}),
  };
}

/**
 * Accepts the identity step's `{ namespace, name, ref }`, or `name`, `<ns>/<name>`,
 * `system:serviceaccount:<ns>:<name>`; must be the project's account.
 */
export function checkServiceAccount(
  raw: unknown,
  project: ModelProject,
): string {
  let value = raw;
  if (raw && typeof raw === 'object') {
    const o = raw as { namespace?: unknown; name?: unknown };
    value =
      typeof o.namespace === 'string' && typeof o.name === 'string'
        ? `${o.namespace}/${o.name}`
        : '';
  }
  if (typeof value !== 'string' || value === '') {
    throw new InputError(
      `identity.serviceAccount is required: give the service account name "${project.serviceAccount}"`,
    );
  }
  const m =
    /^(?:system:serviceaccount:([^:]+):([^:]+)|([^/]+)\/([^/]+)|([^/:]+))$/.exec(
      value,
    );
  const ns = m?.[1] ?? m?.[3];
  const name = m?.[2] ?? m?.[4] ?? m?.[5];
  if (
    !name ||
    name !== project.serviceAccount ||
    (ns !== undefined && ns !== project.namespace)
  ) {
    throw new InputError(
      `identity.serviceAccount "${value.slice(0, 120)}" is not the project's service account "${project.namespace}/${project.serviceAccount}"; pass the identity step's output`,
    );
  }
  return name;
}

export function checkSmoke(
  given: Partial<SmokeSummary> | undefined,
  taskTime: string,
): SmokeSummary | undefined {
  if (!given) return undefined;
  const smoke: Partial<SmokeSummary> =
    given.date === undefined ? { ...given, date: taskTime } : given;
  const str = (k: 'backend' | 'device' | 'date') => {
    const v = smoke[k];
    if (typeof v !== 'string' || v === '' || v.length > 200)
      throw new InputError(`model.smoke.${k} must be a non-empty string`);
    return v;
  };
  if (Number.isNaN(Date.parse(str('date'))))
    throw new InputError('model.smoke.date must be an ISO-8601 time');
  const p50 = smoke.p50Ms;
  if (
    p50 !== null &&
    p50 !== undefined &&
    (typeof p50 !== 'number' || !Number.isFinite(p50) || p50 < 0)
  ) {
    throw new InputError(
      'model.smoke.p50Ms must be a non-negative number of milliseconds',
    );
  }
  return {
    backend: str('backend'),
    device: str('device'),
    p50Ms: (p50 ?? null) as number,
    date: str('date'),
  };
}

/** A GitOps change reference (branch, commit, URL) from a step output; only plain values are kept. */
export function checkGitOpsRef(
  field: string,
  raw: { branch?: unknown; commit?: unknown; url?: unknown } | undefined,
  names = {
    branch: `${field}.branch`,
    commit: `${field}.commit`,
    url: `${field}.url`,
  },
): GitOpsChangeRef | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object')
    throw new InputError(
      `${field} must be the step's GitOps output { branch, commit, url }`,
    );
  const out: GitOpsChangeRef = {};
  if (raw.branch !== undefined && raw.branch !== '') {
    if (typeof raw.branch !== 'string' || !GIT_BRANCH.test(raw.branch))
      throw new InputError(
        `${names.branch} must be a git branch name, e.g. "model/fraud-detector"`,
      );
    out.branch = raw.branch;
  }
  if (raw.commit !== undefined && raw.commit !== '') {
    if (typeof raw.commit !== 'string' || !GIT_COMMIT.test(raw.commit))
      throw new InputError(`${names.commit} must be a git commit id (hex)`);
    out.commit = raw.commit;
  }
  if (raw.url !== undefined && raw.url !== '')
    out.url = checkUrl(names.url, raw.url, ['http:', 'https:', 'file:']);
  return out.branch || out.commit || out.url ? out : undefined;
}

/** owner/repo from `github.com?owner=o&repo=r` (or a GitHub Enterprise host containing "github"). */
export function githubSlug(repoUrl: string): string | undefined {
  const [host, query = ''] = repoUrl.split('?', 2);
  if (!/(^|\.)github\./.test(host)) return undefined;
  const params = new URLSearchParams(query);
  const owner = params.get('owner');
  const repo = params.get('repo');
  return owner && repo ? `${owner}/${repo}` : undefined;
}

/** The identity and serving parts of the provisioning record, from the step outputs as given. */
export function provisioningDetails(
  input: { serving?: unknown; identity?: unknown },
  project: ModelProject,
  identity: IdentityInfo | undefined,
  serving: ServingInfo | undefined,
): Pick<ProvisioningRecordInput, 'identity' | 'serving'> {
  const servingIn = input.serving as
    { gitopsBranch?: unknown; gitopsCommit?: unknown } | undefined;
  const identityIn = input.identity as
    | {
        identities?: {
          provider?: unknown;
          principal?: unknown;
          resources?: unknown;
        };
        gitops?: GitOpsChangeRef;
      }
    | undefined;
  const ids = identityIn?.identities;
  return {
    identity: identity
      ? {
          serviceAccount: `${project.namespace}/${identity.serviceAccount}`,
          grants: identity.grants,
          identities:
            ids && typeof ids === 'object'
              ? {
                  provider:
                    typeof ids.provider === 'string' ? ids.provider : undefined,
                  principal:
                    typeof ids.principal === 'string'
                      ? ids.principal
                      : undefined,
                  resources: Array.isArray(ids.resources)
                    ? ids.resources.filter(
                        (r): r is string => typeof r === 'string',
                      )
                    : undefined,
                }
              : undefined,
          gitops: checkGitOpsRef('identity.gitops', identityIn?.gitops),
        }
      : undefined,
    serving: serving
      ? {
          namespace: serving.namespace,
          restUrl: serving.restUrl,
          grpcUrl: serving.grpcUrl,
          gatewayUrl: serving.gatewayUrl,
          gitops: checkGitOpsRef(
            'serving',
            {
              branch: servingIn?.gitopsBranch,
              commit: servingIn?.gitopsCommit,
              url: serving.gitopsUrl,
            },
            {
              branch: 'serving.gitopsBranch',
              commit: 'serving.gitopsCommit',
              url: 'serving.gitopsUrl',
            },
          ),
        }
      : undefined,
  };
}

/**
 * The model signature: from the input (the validate step), else, with serving, the one stored on the
 * model entity registered earlier.
 */
export async function resolveSignature(
  given: ModelSignature | undefined,
  stored:
    | {
        catalog: Pick<CatalogService, 'getEntityByRef'>;
        credentials: BackstageCredentials;
        names: CatalogEntityNames;
      }
    | undefined,
): Promise<NormalisedSignature | undefined> {
  if (given) return normaliseSignature(given);
  if (!stored) return undefined;
  const { names } = stored;
  const existing = await stored.catalog.getEntityByRef(
    `resource:${names.namespace}/${names.model}`,
    { credentials: stored.credentials },
  );
  const text = existing?.metadata.annotations?.[ANNOTATIONS.signature];
  if (!text) return undefined;
  try {
    return normaliseSignature(
      JSON.parse(text) as ModelSignature,
      `${ANNOTATIONS.signature} of resource:${names.namespace}/${names.model}`,
    );
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      `the stored signature of resource:${names.namespace}/${names.model} is not JSON; pass model.signature`,
    );
  }
}
