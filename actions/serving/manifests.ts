import type { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { LimitRange } from 'kubernetes-models/v1/LimitRange';
import type { Namespace } from 'kubernetes-models/v1/Namespace';
import type { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import type { Service } from 'kubernetes-models/v1/Service';
import type { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { ModelProject } from '../shared/naming';
import type { ServingConfig } from './config';
import { isolation } from './isolation';
import {
  buildInferenceService,
  validateInferenceService,
  type InferenceService,
} from './kserve';
import {
  GRPC_PORT,
  OWNER_REF_ANNOTATION,
  REST_PORT,
  projectLabels,
  serverSelector,
} from './labels';
import { podSecurityLabels } from './podsecurity';
import type { ServingSpec } from './request';
import { tfServing } from './tfserving';
import { kubernetesModels } from '../shared/kubernetesModels';

/** Every manifest we generate: kubernetes-models instances, plus the KServe object checked by our own schema. */
export type ServingManifest =
  | Namespace
  | ResourceQuota
  | LimitRange
  | NetworkPolicy
  | ConfigMap
  | Deployment
  | Service
  | PodDisruptionBudget
  | InferenceService;

export interface ServingEndpoints {
  /** Cluster-internal REST model URL. */
  rest: string;
  /** Cluster-internal gRPC address (host:port); absent on KServe (v1 protocol is REST). */
  grpc?: string;
  /** Public URL through the gateway, when the platform configured one. */
  gateway?: string;
}

export interface ServingManifests {
  manifests: ServingManifest[];
  endpoints: ServingEndpoints;
}

/**
 * All manifests of one project's serving endpoint. Pure: values in, typed objects out.
 * Every object is validated (kubernetes-models `.validate()`, own schema for KServe).
 */
export function buildServingManifests(
  project: ModelProject,
  spec: ServingSpec,
  config: ServingConfig,
): ServingManifests {
  const { Namespace, PodDisruptionBudget } = kubernetesModels();
  const labels = projectLabels(project, spec);
  const annotations = { [OWNER_REF_ANNOTATION]: project.owner };
  const ns = project.namespace;
  const manifests: ServingManifest[] = [
    // istio-injection: the gateway's RequestAuthentication and AuthorizationPolicy only apply to pods with a sidecar
    new Namespace({
      metadata: {
        name: ns,
        labels: {
          ...labels,
          'kubernetes.io/metadata.name': ns,
          'istio-injection': config.network.mesh.enabled
            ? 'enabled'
            : 'disabled',
          ...podSecurityLabels(config.podSecurityVersion),
        },
        annotations,
      },
    }),
  ];
  const { policies, quota, limitRange } = isolation(
    project,
    spec,
    config,
    labels,
  );
  manifests.push(quota, limitRange, ...policies);

  const domain = `svc.${config.clusterDomain}`;
  const endpoints: ServingEndpoints = { rest: '' };
  if (spec.runtime === 'kserve') {
    manifests.push(
      buildInferenceService(project, spec, config, labels, annotations),
    );
    endpoints.rest = `http://${project.name}-predictor.${ns}.${domain}/v1/models/${project.name}`;
  } else {
    const { configMap, deployment, service } = tfServing(
      project,
      spec,
      config,
      labels,
      annotations,
    );
    manifests.push(configMap, deployment, service);
    endpoints.rest = `http://${project.name}.${ns}.${domain}:${REST_PORT}/v1/models/${project.name}`;
    endpoints.grpc = `${project.name}.${ns}.${domain}:${GRPC_PORT}`;
  }
  if (spec.replicas > 1) {
    manifests.push(
      new PodDisruptionBudget({
        metadata: { name: project.name, namespace: ns, labels },
        spec: {
          maxUnavailable: 1,
          selector: { matchLabels: serverSelector(project, spec) },
        },
      }),
    );
  }
  if (config.gateway.publicBaseUrl) {
    endpoints.gateway = `${config.gateway.publicBaseUrl}/${project.name}/v1/models/${project.name}`;
  }
  for (const m of manifests) {
    if (m.kind === 'InferenceService')
      validateInferenceService(m as InferenceService);
    else (m as Exclude<ServingManifest, InferenceService>).validate();
  }
  return { manifests, endpoints };
}
