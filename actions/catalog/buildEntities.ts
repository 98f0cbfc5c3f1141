/** buildCatalogEntities: the project's catalog entities (repository, model, service account, API, endpoint). */
import {
  ANNOTATION_SOURCE_LOCATION,
  stringifyEntityRef,
  type Entity,
  type EntityLink,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import yaml from 'yaml';
import { kubernetesId } from '../shared/kubernetesId';
import {
  AI_MODEL_SERVER_API_KIND,
  AI_MODEL_SERVER_TYPE,
  ANNOTATIONS,
  MODEL_CARD_DOCS_PATH,
  MODEL_CARD_FILE,
  REPO_COMPONENT_TYPE,
  RHDH_AUTH_TAG,
  SMOKE_REPORT_FILE,
  normaliseGrants,
  normaliseSystemRef,
  serverBase,
  storedSignature,
  type BuiltEntities,
  type CatalogEntitiesInput,
  type CatalogEntityRefs,
} from './entities';
import {
  gitopsLink,
  repositoryFileUrl,
  repositoryLink,
  taskLink,
} from './links';
import { buildOpenApiDocument } from './openapi';

const API_VERSION = 'backstage.io/v1alpha1';

function ref(kind: string, name: string, namespace: string): string {
  return stringifyEntityRef({ kind, namespace, name });
}

/**
 * Builds the project's catalog entities as plain objects. Pure: no I/O, no config.
 * Without serving: only the repository Component and the model Resource (plus the
 * service account Resource when identity is given).
 */
export function buildCatalogEntities(
  input: CatalogEntitiesInput,
): BuiltEntities {
  const { project, names, provenance } = input;
  const ns = names.namespace;
  const owner = project.owner;
  const system = input.system ? normaliseSystemRef(input.system) : undefined;
  const systemSpec = system ? { system } : {};

  const refs: CatalogEntityRefs = {
    repo: ref('component', names.repo, ns),
    model: ref('resource', names.model, ns),
  };
  if (input.identity)
    refs.serviceAccount = ref('resource', names.serviceAccount, ns);
  if (input.serving) {
    if (!input.model?.signature) {
      throw new InputError(
        "model.signature is required when serving is given: the API entity is generated from the model signature (pass the validate step's signature output)",
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
        ...(typeof input.model.smoke.p50Ms === 'number'
          ? { [ANNOTATIONS.smokeP50Ms]: String(input.model.smoke.p50Ms) }
          : {}),
        [ANNOTATIONS.smokeDate]: input.model.smoke.date,
      }
    : {};
  const servingAnn: Record<string, string> = input.serving
    ? {
        [ANNOTATIONS.servingNamespace]: input.serving.namespace,
        ...(input.serving.gitopsUrl
          ? { [ANNOTATIONS.gitopsChangeUrl]: input.serving.gitopsUrl }
          : {}),
      }
    : {};
  const tags = ['tensorflow', 'ml-model'];
  const contentsUrl = input.repo.contentsUrl;
  const fileLink = (
    file: string,
    title: string,
    icon: string,
    type: string,
  ): EntityLink[] => {
    const url = contentsUrl ? repositoryFileUrl(contentsUrl, file) : undefined;
    return url ? [{ url, title, icon, type }] : [];
  };
  const projectLinks: EntityLink[] = [
    ...(contentsUrl ? [repositoryLink(contentsUrl)] : []),
    ...fileLink(MODEL_CARD_FILE, 'Model card', 'docs', 'model-card'),
    ...(input.model?.smoke
      ? fileLink(SMOKE_REPORT_FILE, 'Smoke report', 'dashboard', 'smoke-report')
      : []),
    taskLink(provenance.taskUrl),
  ];

  const repoAnnotations: Record<string, string> = {
    ...common,
    ...smoke,
    ...servingAnn,
    [ANNOTATIONS.techdocsRef]: 'dir:.',
  };
  if (input.repo.contentsUrl)
    repoAnnotations[ANNOTATION_SOURCE_LOCATION] =
      `url:${input.repo.contentsUrl}`;
  if (input.repo.githubSlug)
    repoAnnotations[ANNOTATIONS.githubProjectSlug] = input.repo.githubSlug;

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
    spec: {
      type: REPO_COMPONENT_TYPE,
      owner,
      lifecycle: input.lifecycle,
      ...systemSpec,
    },
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
  if (input.model?.signature)
    modelAnnotations[ANNOTATIONS.signature] = JSON.stringify(
      storedSignature(input.model.signature),
    );
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
    const externalBase = serving.gatewayUrl
      ? serverBase(serving.gatewayUrl, project.name)
      : undefined;
    const servers = [
      ...(externalBase
        ? [{ url: externalBase, description: 'Gateway (external)' }]
        : []),
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
    if (externalBase)
      endpointAnnotations[ANNOTATIONS.rhdhExternalRouteUrl] = externalBase;
    if (
      input.identity?.grants &&
      Object.keys(input.identity.grants).length > 0
    ) {
      endpointAnnotations[ANNOTATIONS.accessScopes] = JSON.stringify(
        normaliseGrants(input.identity.grants),
      );
    }
    if (input.accessLogUrl)
      endpointAnnotations[ANNOTATIONS.accessLogUrl] = input.accessLogUrl;
    const links: EntityLink[] = [
      ...(serving.gatewayUrl
        ? [
            {
              url: serving.gatewayUrl,
              title: 'REST endpoint (gateway)',
              icon: 'kind:api',
              type: 'endpoint',
            },
          ]
        : []),
      {
        url: serving.restUrl,
        title: 'REST endpoint (in-cluster)',
        icon: 'kind:api',
        type: 'endpoint',
      },
      ...(serving.gitopsUrl ? [gitopsLink(serving.gitopsUrl)] : []),
      ...(input.accessLogUrl
        ? [{ url: input.accessLogUrl, title: 'Access records', icon: 'docs' }]
        : []),
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
        dependsOn: [
          refs.model,
          ...(refs.serviceAccount ? [refs.serviceAccount] : []),
        ],
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
          models: {
            discoverable: false,
            available: [project.name],
            default: project.name,
          },
        },
      });
    }
  }

  return { entities, refs };
}
