/**
 * What the catalog entities are made of: the annotation keys and constants, the input and output of
 * buildCatalogEntities (buildEntities.ts), and the normalised values it writes.
 */
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { KUBERNETES_ID } from '../shared/kubernetesId';
import { parseStrictEntityRef, type ModelProject } from '../shared/naming';
import type { CatalogEntityNames } from './names';
import type { ModelSignature, NormalisedSignature } from './signature';

const TF = 'tensorflow.ml-platform.io';

/** Every annotation we write, in one place. */
export const ANNOTATIONS = {
  modelName: `${TF}/model-name`,
  /** Where the model project's repository lives (`local?repo=x`, `github.com?owner=o&repo=x`): self-service runs read it. */
  repoUrl: `${TF}/repo-url`,
  servingNamespace: `${TF}/serving-namespace`,
  gitopsChangeUrl: `${TF}/gitops-change-url`,
  smokeBackend: `${TF}/smoke-backend`,
  smokeDevice: `${TF}/smoke-device`,
  smokeP50Ms: `${TF}/smoke-p50-ms`,
  smokeDate: `${TF}/smoke-date`,
  /** JSON of the normalised model signature; lets later runs rebuild the API without a new smoke run. */
  signature: `${TF}/signature`,
  kubernetesServiceAccount: `${TF}/kubernetes-service-account`,
  provisionedBy: `${TF}/provisioned-by`,
  provisionedAt: `${TF}/provisioned-at`,
  taskUrl: `${TF}/task-url`,
  /** JSON object group ref -> scopes, on the endpoint. */
  accessScopes: `${TF}/access-scopes`,
  /** Where the endpoint's access records can be read (tensorflow.gateway.accessLogUrlTemplate), on the endpoint. */
  accessLogUrl: `${TF}/access-log-url`,
  rhdhModelName: 'rhdh.modelcatalog.io/model-name',
  rhdhInternalServiceUrl: 'rhdh.modelcatalog.io/internal-service-url',
  rhdhExternalRouteUrl: 'rhdh.modelcatalog.io/external-route-url',
  techdocsRef: 'backstage.io/techdocs-ref',
  /** TechDocs shows this entity's published docs (the repository's) instead of building its own … */
  techdocsEntity: 'backstage.io/techdocs-entity',
  /** … opened at this page of them (the model card). */
  techdocsEntityPath: 'backstage.io/techdocs-entity-path',
  kubernetesId: KUBERNETES_ID,
  githubProjectSlug: 'github.com/project-slug',
  kubernetesNamespace: 'backstage.io/kubernetes-namespace',
} as const;

/** Component type of the model project's repository (training code, model card, docs). */
export const REPO_COMPONENT_TYPE = 'model-project';

/** Path of the model card page in the project's published docs (skeleton `docs/model-card.md`). */
export const MODEL_CARD_DOCS_PATH = '/model-card/';
/** The model card's file in the repository. */
export const MODEL_CARD_FILE = 'docs/model-card.md';
/** Where the validate step writes its smoke report (its default `reportPath`). */
export const SMOKE_REPORT_FILE = 'smoke-report.json';

/**
 * RHDH's model-server tags (ModelCatalogGenerator: `auth-required` / `auth-not-required`).
 * Our endpoint is only reachable through the gateway (NetworkPolicy allow-from-gateway), which
 * requires a JWT (RequestAuthentication + AuthorizationPolicy): always `auth-required`.
 */
export const RHDH_AUTH_TAG = 'auth-required';

export const AI_MODEL_SERVER_API_KIND = 'AiModelServerAPI';

/** `AiModelServerAPI.spec.serverType`: the API contract, TF Serving's REST API v1 (`/v1/models/<name>…`). */
export const AI_MODEL_SERVER_TYPE = 'tensorflow-serving-rest-v1';

export interface SmokeSummary {
  /** tfjs backend used, e.g. `tensorflow`, `cpu`, `wasm`. */
  backend: string;
  /** `GPU` / `CPU` or a device name. */
  device: string;
  /** Median latency of one inference, milliseconds (null when not measured). */
  p50Ms: number | null;
  /** ISO-8601 time of the smoke run (the task's time when the smoke step gives none). */
  date: string;
}

export interface ServingInfo {
  namespace: string;
  /** In-cluster REST URL of the model (`http://x.ns.svc.cluster.local:8501/v1/models/x`) or its base. */
  restUrl: string;
  /** In-cluster gRPC address (TF Serving runtime only). */
  grpcUrl?: string;
  /** External REST URL of the model through the gateway, when there is one. */
  gatewayUrl?: string;
  /** URL of the GitOps change (pull request or commit) that delivers the endpoint. */
  gitopsUrl?: string;
}

export interface IdentityInfo {
  /** Kubernetes service account name (already checked against the project). */
  serviceAccount: string;
  /** Group ref -> scopes granted on the endpoint. */
  grants?: Record<string, string[]>;
}

export interface Provenance {
  /** Entity ref of the person who started the task. */
  initiator: string;
  /** ISO-8601 time of the (first attempt of the) task. */
  at: string;
  /** `${baseUrl}/create/tasks/${taskId}`. */
  taskUrl: string;
}

export interface CatalogEntitiesInput {
  project: ModelProject;
  names: CatalogEntityNames;
  description: string;
  /** System entity ref (`system:default/x`) or name. */
  system?: string;
  lifecycle: string;
  repo: {
    repoUrl: string;
    /** Browsable URL of the repository root; becomes backstage.io/source-location. */
    contentsUrl?: string;
    /** `owner/repo` when the repository is on GitHub. */
    githubSlug?: string;
  };
  model?: {
    signature?: NormalisedSignature;
    smoke?: SmokeSummary;
  };
  serving?: ServingInfo;
  identity?: IdentityInfo;
  /** The endpoint's access records (actions/gateway/visibility.ts accessLogUrl), when the platform configured them. */
  accessLogUrl?: string;
  provenance: Provenance;
  /** Red Hat Developer Hub's model catalog. */
  rhdh?: {
    /** Also build the `AiModelServerAPI` entity (tensorflow.catalog.rhdh.aiModelServerApi). */
    aiModelServerApi?: boolean;
  };
}

export interface CatalogEntityRefs {
  repo: string;
  model: string;
  endpoint?: string;
  api?: string;
  serviceAccount?: string;
  /** `aimodelserverapi:default/<endpoint name>`, when enabled and serving is given. */
  aiModelServerApi?: string;
}

export interface BuiltEntities {
  /** Repo component first, then model, service account, API, endpoint (then AiModelServerAPI). */
  entities: Entity[];
  refs: CatalogEntityRefs;
}

/** Normalises a system ref (`payments`, `system:default/payments`) to a full ref. */
export function normaliseSystemRef(value: string): string {
  const ref =
    typeof value === 'string'
      ? parseStrictEntityRef(value.trim(), { defaultKind: 'system' })
      : undefined;
  if (!ref || ref.kind !== 'system') {
    throw new InputError(
      `system "${String(value).slice(0, 80)}" is not a System ref; use e.g. "system:default/fraud" or "fraud"`,
    );
  }
  return stringifyEntityRef(ref);
}

/** Sorted, de-duplicated group -> scopes map; group refs normalised. */
export function normaliseGrants(
  grants: Record<string, string[]>,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (typeof grants !== 'object' || grants === null || Array.isArray(grants)) {
    throw new InputError(
      'identity.grants must be an object of group ref -> scopes, e.g. { "group:default/risk": ["predict"] } (the identity step\'s grants output)',
    );
  }
  for (const [group, scopes] of Object.entries(grants)) {
    const parsed = parseStrictEntityRef(group, { defaultKind: 'group' });
    if (!parsed || parsed.kind !== 'group') {
      throw new InputError(
        `identity.grants key "${group.slice(0, 80)}" is not a group ref; use "group:default/risk"`,
      );
    }
    const ref = stringifyEntityRef(parsed);
    if (
      !Array.isArray(scopes) ||
      scopes.some(
        s => typeof s !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(s),
      )
    ) {
      throw new InputError(
        `identity.grants["${group.slice(0, 80)}"] must be a list of scope names such as ["predict"]`,
      );
    }
    out[ref] = [...new Set([...(out[ref] ?? []), ...scopes])].sort();
  }
  return Object.fromEntries(
    Object.entries(out).sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** The signature in the smoke report's form, for the model's signature annotation. */
export function storedSignature(
  signature: NormalisedSignature,
): ModelSignature {
  const tensor = (t: NormalisedSignature['inputs'][number]) => ({
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
  });
  return {
    name: signature.key,
    methodName: signature.methodName,
    inputs: signature.inputs.map(tensor),
    outputs: signature.outputs.map(tensor),
  };
}

/** The server base of a model URL: strips a trailing `/v1/models/<model>` (TF Serving / KServe v1 form). */
export function serverBase(url: string, modelName: string): string {
  const suffix = `/v1/models/${modelName}`;
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith(suffix) ? trimmed.slice(0, -suffix.length) : trimmed;
}
