import {
  ANNOTATION_SOURCE_LOCATION,
  stringifyEntityRef,
  type Entity,
  type EntityLink,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import yaml from 'yaml';
import { KUBERNETES_ID, kubernetesId } from '../shared/kubernetesId';
import { parseStrictEntityRef, type ModelProject } from '../shared/naming';
import type { CatalogEntityNames } from './names';
import { buildOpenApiDocument, type ModelSignature, type NormalisedSignature } from './openapi';

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

const API_VERSION = 'backstage.io/v1alpha1';

/** Normalises a system ref (`payments`, `system:default/payments`) to a full ref. */
export function normaliseSystemRef(value: string): string {
  const ref = typeof value === 'string' ? parseStrictEntityRef(value.trim(), { defaultKind: 'system' }) : undefined;
  if (!ref || ref.kind !== 'system') {
    throw new InputError(`system "${String(value).slice(0, 80)}" is not a System ref; use e.g. "system:default/fraud" or "fraud"`);
  }
  return stringifyEntityRef(ref);
}

/** Sorted, de-duplicated group -> scopes map; group refs normalised. */
export function normaliseGrants(grants: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (typeof grants !== 'object' || grants === null || Array.isArray(grants)) {
    throw new InputError('identity.grants must be an object of group ref -> scopes, e.g. { "group:default/risk": ["predict"] } (the identity step\'s grants output)');
  }
  for (const [group, scopes] of Object.entries(grants)) {
    const parsed = parseStrictEntityRef(group, { defaultKind: 'group' });
    if (!parsed || parsed.kind !== 'group') {
      throw new InputError(`identity.grants key "${group.slice(0, 80)}" is not a group ref; use "group:default/risk"`);
    }
    const ref = stringifyEntityRef(parsed);
    if (!Array.isArray(scopes) || scopes.some(s => typeof s !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(s))) {
      throw new InputError(`identity.grants["${group.slice(0, 80)}"] must be a list of scope names such as ["predict"]`);
    }
    out[ref] = [...new Set([...(out[ref] ?? []), ...scopes])].sort();
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** The signature in the smoke report's form, for the model's signature annotation. */
export function storedSignature(signature: NormalisedSignature): ModelSignature {
  const tensor = (t: NormalisedSignature['inputs'][number]) => ({ name: t.name, dtype: t.dtype, shape: t.shape });
  return { name: signature.key, methodName: signature.methodName, inputs: signature.inputs.map(tensor), outputs: signature.outputs.map(tensor) };
}

/** The server base of a model URL: strips a trailing `/v1/models/<model>` (TF Serving / KServe v1 form). */
export function serverBase(url: string, modelName: string): string {
  const suffix = `/v1/models/${modelName}`;
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith(suffix) ? trimmed.slice(0, -suffix.length) : trimmed;
}

/** Entity links' `icon` values are keys of Backstage's default app icons (`@backstage/app-defaults` icons). */
export type { EntityLink };

function hostOf(url: string): { protocol: string; host: string; path: string } | undefined {
  try {
    const u = new URL(url);
    return { protocol: u.protocol, host: u.hostname.toLocaleLowerCase('en-US'), path: u.pathname };
  } catch {
    return undefined;
  }
}

/** github.com, or a GitHub Enterprise host named `github.<domain>`. */
function isGitHubHost(host: string): boolean {
  return host === 'github.com' || host.startsWith('github.');
}

/** The repository's browsable root: GitHub gets the `github` icon, a local git repository (file:) a location pin. */
export function repositoryLink(contentsUrl: string): EntityLink {
  const h = hostOf(contentsUrl);
  if (h && isGitHubHost(h.host)) return { url: contentsUrl, title: 'Repository (GitHub)', icon: 'github', type: 'repository' };
  if (h?.protocol === 'file:') return { url: contentsUrl, title: 'Repository (local git)', icon: 'kind:location', type: 'repository' };
  return { url: contentsUrl, title: 'Repository', type: 'repository' };
}

/** URL of one file of the repository, from its contents URL (`…/tree/<branch>` on GitHub, `file://<dir>` locally). */
export function repositoryFileUrl(contentsUrl: string, file: string): string | undefined {
  const h = hostOf(contentsUrl);
  if (!h) return undefined;
  const base = contentsUrl.replace(/\/+$/, '');
  if (isGitHubHost(h.host)) {
    const m = /^(https?:\/\/[^/]+\/[^/]+\/[^/]+)(?:\/tree\/(.+))?$/.exec(base);
    return m ? `${m[1]}/blob/${m[2] ?? 'HEAD'}/${file}` : undefined;
  }
  if (h.protocol === 'file:') return `${base}/${file}`;
  return undefined;
}

/** The GitOps change: a GitHub pull request or commit, or a branch of the local GitOps repository. */
export function gitopsLink(url: string): EntityLink {
  const h = hostOf(url);
  if (h && isGitHubHost(h.host)) {
    const title = /\/pull\/\d+/.test(h.path) ? 'GitOps pull request' : /\/commit\/[0-9a-f]+/.test(h.path) ? 'GitOps commit' : 'GitOps change';
    return { url, title, icon: 'github', type: 'gitops' };
  }
  if (h?.protocol === 'file:') return { url, title: 'GitOps change (local git)', icon: 'kind:location', type: 'gitops' };
  return { url, title: 'GitOps change', type: 'gitops' };
}

export function taskLink(taskUrl: string): EntityLink {
  return { url: taskUrl, title: 'Scaffolder task', icon: 'scaffolder', type: 'scaffolder-task' };
}

function ref(kind: string, name: string, namespace: string): string {
  return stringifyEntityRef({ kind, namespace, name });
}

/**
 * Builds the project's catalog entities as plain objects. Pure: no I/O, no config.
 * Without serving: only the repository Component and the model Resource (plus the
 * service account Resource when identity is given).
 */
export function buildCatalogEntities(input: CatalogEntitiesInput): BuiltEntities {
  const { project, names, provenance } = input;
  const ns = names.namespace;
  const owner = project.owner;
  const system = input.system ? normaliseSystemRef(input.system) : undefined;
  const systemSpec = system ? { system } : {};

  const refs: CatalogEntityRefs = {
    repo: ref('component', names.repo, ns),
    model: ref('resource', names.model, ns),
  };
  if (input.identity) refs.serviceAccount = ref('resource', names.serviceAccount, ns);
  if (input.serving) {
    if (!input.model?.signature) {
      throw new InputError(
        'model.signature is required when serving is given: the API entity is generated from the model signature (pass the validate step\'s signature output)',
      );
    }
    refs.endpoint = ref('component', names.endpoint, ns);
    refs.api = ref('api', names.api, ns);
  }

  const common: Record<string, string> = {
    [ANNOTATIONS.modelName]: project.name,
    [ANNOTATIONS.repoUrl]: input.repo.repoUrl,
    [ANNOTATIONS.provisionedBy]: provenance.initiator,
    [ANNOTATIONS.provisionedAt]: provenance.at,
    [ANNOTATIONS.taskUrl]: provenance.taskUrl,
  };
  const smoke: Record<string, string> = input.model?.smoke
    ? {
        [ANNOTATIONS.smokeBackend]: input.model.smoke.backend,
        [ANNOTATIONS.smokeDevice]: input.model.smoke.device,
        ...(typeof input.model.smoke.p50Ms === 'number' ? { [ANNOTATIONS.smokeP50Ms]: String(input.model.smoke.p50Ms) } : {}),
        [ANNOTATIONS.smokeDate]: input.model.smoke.date,
      }
    : {};
  const servingAnn: Record<string, string> = input.serving
    ? {
        [ANNOTATIONS.servingNamespace]: input.serving.namespace,
        ...(input.serving.gitopsUrl ? { [ANNOTATIONS.gitopsChangeUrl]: input.serving.gitopsUrl } : {}),
      }
    : {};
  const tags = ['tensorflow', 'ml-model'];
  const contentsUrl = input.repo.contentsUrl;
  const fileLink = (file: string, title: string, icon: string, type: string): EntityLink[] => {
    const url = contentsUrl ? repositoryFileUrl(contentsUrl, file) : undefined;
    return url ? [{ url, title, icon, type }] : [];
  };
  const projectLinks: EntityLink[] = [
    ...(contentsUrl ? [repositoryLink(contentsUrl)] : []),
    ...fileLink(MODEL_CARD_FILE, 'Model card', 'docs', 'model-card'),
    ...(input.model?.smoke ? fileLink(SMOKE_REPORT_FILE, 'Smoke report', 'dashboard', 'smoke-report') : []),
    taskLink(provenance.taskUrl),
  ];

  const repoAnnotations: Record<string, string> = {
    ...common,
    ...smoke,
    ...servingAnn,
    [ANNOTATIONS.techdocsRef]: 'dir:.',
  };
  if (input.repo.contentsUrl) repoAnnotations[ANNOTATION_SOURCE_LOCATION] = `url:${input.repo.contentsUrl}`;
  if (input.repo.githubSlug) repoAnnotations[ANNOTATIONS.githubProjectSlug] = input.repo.githubSlug;

  const repo: Entity = {
    apiVersion: API_VERSION,
    kind: 'Component',
    metadata: {
      name: names.repo,
      namespace: ns,
      title: project.name,
      description: input.description,
      tags,
      annotations: repoAnnotations,
      links: projectLinks,
    },
    spec: { type: REPO_COMPONENT_TYPE, owner, lifecycle: input.lifecycle, ...systemSpec },
  };

  const modelAnnotations: Record<string, string> = {
    ...common,
    ...smoke,
    // RHDH's AI templates name the model in REST calls by this annotation of the picked Resource.
    [ANNOTATIONS.rhdhModelName]: project.name,
    // The model card is a page of the repository's docs: RHDH reads techdocs-ref, Backstage's
    // TechDocs tab shows the repository's published site opened at the model card.
    [ANNOTATIONS.techdocsRef]: 'dir:.',
    [ANNOTATIONS.techdocsEntity]: refs.repo,
    [ANNOTATIONS.techdocsEntityPath]: MODEL_CARD_DOCS_PATH,
  };
  if (input.serving) {
    modelAnnotations[ANNOTATIONS.kubernetesId] = kubernetesId(project);
    modelAnnotations[ANNOTATIONS.kubernetesNamespace] = input.serving.namespace;
  }
  if (input.model?.signature) modelAnnotations[ANNOTATIONS.signature] = JSON.stringify(storedSignature(input.model.signature));
  const model: Entity = {
    apiVersion: API_VERSION,
    kind: 'Resource',
    metadata: {
      name: names.model,
      namespace: ns,
      title: `${project.name} model`,
      description: input.description,
      tags,
      annotations: modelAnnotations,
      links: projectLinks,
    },
    spec: {
      type: 'ai-model',
      owner,
      ...systemSpec,
      dependsOn: [refs.repo],
      // RHDH model pickers look up the server through dependencyOf[0].
      ...(refs.endpoint ? { dependencyOf: [refs.endpoint] } : {}),
    },
  };

  const entities: Entity[] = [repo, model];

  if (input.identity && refs.serviceAccount) {
    entities.push({
      apiVersion: API_VERSION,
      kind: 'Resource',
      metadata: {
        name: names.serviceAccount,
        namespace: ns,
        title: `${project.name} serving service account`,
        description: `Kubernetes service account ${project.namespace}/${input.identity.serviceAccount} of ${project.name}; short-lived credentials only, no static keys.`,
        tags: ['tensorflow', 'service-account'],
        annotations: {
          ...common,
          [ANNOTATIONS.kubernetesServiceAccount]: `${project.namespace}/${input.identity.serviceAccount}`,
          [ANNOTATIONS.kubernetesNamespace]: project.namespace,
        },
      },
      spec: {
        type: 'service-account',
        owner,
        ...systemSpec,
        ...(refs.endpoint ? { dependencyOf: [refs.endpoint] } : {}),
      },
    });
  }

  if (input.serving && refs.endpoint && refs.api && input.model?.signature) {
    const serving = input.serving;
    const internalBase = serverBase(serving.restUrl, project.name);
    const externalBase = serving.gatewayUrl ? serverBase(serving.gatewayUrl, project.name) : undefined;
    const servers = [
      ...(externalBase ? [{ url: externalBase, description: 'Gateway (external)' }] : []),
      { url: internalBase, description: 'In-cluster service' },
    ];
    const document = buildOpenApiDocument(input.model.signature, {
      modelName: project.name,
      title: `${project.name} prediction API`,
      servers,
    });
    entities.push({
      apiVersion: API_VERSION,
      kind: 'API',
      metadata: {
        name: names.api,
        namespace: ns,
        title: `${project.name} prediction API`,
        description: `TF Serving REST API of ${project.name} (predict, status, metadata).`,
        tags: ['tensorflow', 'tf-serving', RHDH_AUTH_TAG],
        annotations: { ...common },
        links: [taskLink(provenance.taskUrl)],
      },
      spec: {
        type: 'openapi',
        lifecycle: input.lifecycle,
        owner,
        ...systemSpec,
        definition: yaml.stringify(document, { sortMapEntries: false }),
      },
    });

    const endpointAnnotations: Record<string, string> = {
      ...common,
      ...servingAnn,
      [ANNOTATIONS.rhdhModelName]: project.name,
      [ANNOTATIONS.rhdhInternalServiceUrl]: internalBase,
      [ANNOTATIONS.kubernetesNamespace]: serving.namespace,
      [ANNOTATIONS.kubernetesId]: kubernetesId(project),
    };
    if (externalBase) endpointAnnotations[ANNOTATIONS.rhdhExternalRouteUrl] = externalBase;
    if (input.identity?.grants && Object.keys(input.identity.grants).length > 0) {
      endpointAnnotations[ANNOTATIONS.accessScopes] = JSON.stringify(normaliseGrants(input.identity.grants));
    }
    if (input.accessLogUrl) endpointAnnotations[ANNOTATIONS.accessLogUrl] = input.accessLogUrl;
    const links: EntityLink[] = [
      ...(serving.gatewayUrl ? [{ url: serving.gatewayUrl, title: 'REST endpoint (gateway)', icon: 'kind:api', type: 'endpoint' }] : []),
      { url: serving.restUrl, title: 'REST endpoint (in-cluster)', icon: 'kind:api', type: 'endpoint' },
      ...(serving.gitopsUrl ? [gitopsLink(serving.gitopsUrl)] : []),
      ...(input.accessLogUrl ? [{ url: input.accessLogUrl, title: 'Access records', icon: 'docs' }] : []),
      taskLink(provenance.taskUrl),
    ];
    entities.push({
      apiVersion: API_VERSION,
      kind: 'Component',
      metadata: {
        name: names.endpoint,
        namespace: ns,
        title: `${project.name} serving endpoint`,
        description: `TF Serving endpoint of ${project.name} in namespace ${serving.namespace}.`,
        tags: ['tensorflow', 'tf-serving', RHDH_AUTH_TAG],
        annotations: endpointAnnotations,
        links,
      },
      spec: {
        type: 'model-server',
        owner,
        lifecycle: input.lifecycle,
        ...systemSpec,
        dependsOn: [refs.model, ...(refs.serviceAccount ? [refs.serviceAccount] : [])],
        providesApis: [refs.api],
      },
    });

    if (input.rhdh?.aiModelServerApi) {
      refs.aiModelServerApi = ref('aimodelserverapi', names.endpoint, ns);
      entities.push({
        apiVersion: API_VERSION,
        kind: AI_MODEL_SERVER_API_KIND,
        metadata: {
          name: names.endpoint,
          namespace: ns,
          title: `${project.name} model server`,
          description: `TF Serving endpoint of ${project.name} (RHDH model catalog).`,
          tags: ['tensorflow', 'tf-serving', RHDH_AUTH_TAG],
          annotations: { ...common, [ANNOTATIONS.rhdhModelName]: project.name },
          links: [taskLink(provenance.taskUrl)],
        },
        spec: {
          type: 'ai-model-server',
          lifecycle: input.lifecycle,
          owner,
          ...systemSpec,
          serverType: AI_MODEL_SERVER_TYPE,
          serverUrl: externalBase ?? internalBase,
          // The gateway takes a bearer JWT; no anonymous access.
          requiresApiKey: true,
          apiEntityRef: refs.api,
          // TF Serving has no model listing endpoint (GET /v1/models is an error).
          models: { discoverable: false, available: [project.name], default: project.name },
        },
      });
    }
  }

  return { entities, refs };
}
