import { kubernetesModels } from '../shared/kubernetesModels';
import { KUBERNETES_ID, kubernetesId } from '../shared/kubernetesId';
import { DNS_LABEL, type ModelProject } from '../shared/naming';
import type { ServingConfig } from './config';
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './podsecurity';
import type { ServingSpec } from './request';
import { readinessPath } from './probes';

/** The subset of KServe's InferenceService (serving.kserve.io/v1beta1) we generate. */
export interface InferenceService {
  apiVersion: 'serving.kserve.io/v1beta1';
  kind: 'InferenceService';
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    predictor: {
      serviceAccountName: string;
      automountServiceAccountToken?: boolean;
      minReplicas: number;
      maxReplicas: number;
      /** ComponentExtensionSpec.labels: KServe puts them on the predictor's pods. */
      labels?: Record<string, string>;
      nodeSelector?: Record<string, string>;
      tolerations?: Array<Record<string, string>>;
      securityContext?: Record<string, unknown>;
      batcher?: { maxBatchSize: number; maxLatency: number };
      model: {
        modelFormat: { name: 'tensorflow'; version?: string };
        storageUri: string;
        runtimeVersion: string;
        protocolVersion: 'v1';
        resources: {
          requests?: Record<string, string>;
          limits?: Record<string, string>;
        };
        securityContext?: Record<string, unknown>;
        readinessProbe?: Record<string, unknown>;
      };
    };
  };
}

export function buildInferenceService(
  project: ModelProject,
  spec: ServingSpec,
  config: ServingConfig,
  labels: Record<string, string>,
  annotations: Record<string, string>,
): InferenceService {
  const gpu =
    spec.gpus > 0 ? { [config.gpuResourceName]: String(spec.gpus) } : {};
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: project.name,
      namespace: project.namespace,
      labels,
      annotations: {
        ...annotations,
        'serving.kserve.io/deploymentMode': 'RawDeployment',
        'serving.kserve.io/enable-prometheus-scraping': 'true',
      },
    },
    spec: {
      predictor: {
        serviceAccountName: project.serviceAccount,
        labels: { [KUBERNETES_ID]: kubernetesId(project) },
        automountServiceAccountToken: false,
        minReplicas: spec.replicas,
        maxReplicas: spec.replicas,
        securityContext: restrictedPodSecurityContext(),
        ...(spec.gpus > 0 && Object.keys(config.gpuNodeSelector).length > 0
          ? { nodeSelector: { ...config.gpuNodeSelector } }
          : {}),
        ...(spec.gpus > 0
          ? {
              tolerations: config.gpuTolerations.map(
                t => ({ ...t }) as Record<string, string>,
              ),
            }
          : {}),
        ...(spec.batching
          ? {
              batcher: {
                maxBatchSize: spec.batching.maxBatchSize,
                maxLatency: Math.max(
                  1,
                  Math.round(spec.batching.batchTimeoutMicros / 1000),
                ),
              },
            }
          : {}),
        model: {
          modelFormat: { name: 'tensorflow' },
          storageUri: spec.storageUri,
          runtimeVersion: `${config.imageTag}${spec.gpus > 0 ? '-gpu' : ''}`,
          protocolVersion: 'v1',
          // The runtime's TF Serving REST port; metadata answers only for an AVAILABLE version (see readinessPath).
          readinessProbe: {
            httpGet: { path: readinessPath(project, spec), port: 8080 },
            periodSeconds: 10,
            failureThreshold: 3,
          },
          resources: {
            requests: { cpu: spec.cpu, memory: spec.memory, ...gpu },
            limits: { cpu: spec.cpu, memory: spec.memory, ...gpu },
          },
          securityContext: restrictedContainerSecurityContext(),
        },
      },
    },
  };
}

function check(condition: boolean, path: string, message: string) {
  if (!condition) throw new Error(`InferenceService ${path}: ${message}`);
}

const PREDICTOR_KEYS = new Set([
  'serviceAccountName',
  'automountServiceAccountToken',
  'minReplicas',
  'maxReplicas',
  'labels',
  'nodeSelector',
  'tolerations',
  'securityContext',
  'batcher',
  'model',
]);
const MODEL_KEYS = new Set([
  'modelFormat',
  'storageUri',
  'runtimeVersion',
  'protocolVersion',
  'resources',
  'securityContext',
  'readinessProbe',
]);

/**
 * Our schema check for the InferenceService (kubernetes-models has no KServe types):
 * the shape KServe v1beta1 accepts for a TensorFlow predictor, with inline PodSpec and
 * container parts validated by kubernetes-models, and KServe's own GPU rule
 * (GPU resources <=> a "-gpu" runtimeVersion).
 */
export function validateInferenceService(
  isvc: InferenceService,
  gpuResourceName = 'nvidia.com/gpu',
): void {
  const { ConfigMap, Container, PodSecurityContext, Toleration } =
    kubernetesModels();
  check(
    isvc.apiVersion === 'serving.kserve.io/v1beta1',
    'apiVersion',
    'must be serving.kserve.io/v1beta1',
  );
  check(isvc.kind === 'InferenceService', 'kind', 'must be InferenceService');
  // ObjectMeta schema, checked through a carrier object (kubernetes-models exports no bare ObjectMeta).
  new ConfigMap({ metadata: isvc.metadata }).validate();
  check(
    DNS_LABEL.test(isvc.metadata.name) && isvc.metadata.name.length <= 45,
    'metadata.name',
    'must be a DNS label of at most 45 characters',
  );
  check(
    DNS_LABEL.test(isvc.metadata.namespace ?? ''),
    'metadata.namespace',
    'must be set',
  );
  const p = isvc.spec?.predictor;
  check(typeof p === 'object' && p !== null, 'spec.predictor', 'is required');
  for (const key of Object.keys(p))
    check(
      PREDICTOR_KEYS.has(key),
      `spec.predictor.${key}`,
      'is not a field we generate',
    );
  check(
    DNS_LABEL.test(p.serviceAccountName ?? ''),
    'spec.predictor.serviceAccountName',
    'must name the project service account',
  );
  check(
    Number.isInteger(p.minReplicas) && p.minReplicas >= 0,
    'spec.predictor.minReplicas',
    'must be a non-negative integer',
  );
  check(
    Number.isInteger(p.maxReplicas) && p.maxReplicas >= p.minReplicas,
    'spec.predictor.maxReplicas',
    'must be an integer >= minReplicas',
  );
  if (p.labels)
    new ConfigMap({
      metadata: { name: 'labels', labels: p.labels },
    }).validate();
  (p.tolerations ?? []).forEach(t => new Toleration(t as never).validate());
  if (p.securityContext)
    new PodSecurityContext(p.securityContext as never).validate();
  if (p.batcher) {
    check(
      Number.isInteger(p.batcher.maxBatchSize) && p.batcher.maxBatchSize > 0,
      'spec.predictor.batcher.maxBatchSize',
      'must be a positive integer',
    );
    check(
      Number.isInteger(p.batcher.maxLatency) && p.batcher.maxLatency > 0,
      'spec.predictor.batcher.maxLatency',
      'must be a positive integer (ms)',
    );
  }
  const m = p.model;
  check(
    typeof m === 'object' && m !== null,
    'spec.predictor.model',
    'is required',
  );
  for (const key of Object.keys(m))
    check(
      MODEL_KEYS.has(key),
      `spec.predictor.model.${key}`,
      'is not a field we generate',
    );
  check(
    m.modelFormat?.name === 'tensorflow',
    'spec.predictor.model.modelFormat.name',
    'must be tensorflow',
  );
  check(
    /^(gs|s3|pvc|https?):\/\/[^\s]+$/.test(m.storageUri ?? ''),
    'spec.predictor.model.storageUri',
    'must be a storage URI',
  );
  check(
    ['v1', 'v2', 'grpc-v1', 'grpc-v2'].includes(m.protocolVersion),
    'spec.predictor.model.protocolVersion',
    'must be v1, v2, grpc-v1 or grpc-v2',
  );
  check(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(m.runtimeVersion ?? ''),
    'spec.predictor.model.runtimeVersion',
    'must be an image tag',
  );
  // The container parts are a corev1.Container: validate them as one.
  new Container({
    name: 'kserve-container',
    resources: m.resources,
    securityContext: m.securityContext as never,
    readinessProbe: m.readinessProbe as never,
  }).validate();
  const gpus = Number(m.resources?.limits?.[gpuResourceName] ?? 0);
  const gpuRuntime = m.runtimeVersion.endsWith('-gpu');
  check(
    !(gpus > 0 && !gpuRuntime),
    'spec.predictor.model.runtimeVersion',
    'is not GPU enabled but GPU resources are requested',
  );
  check(
    !(gpus === 0 && gpuRuntime),
    'spec.predictor.model.runtimeVersion',
    'is GPU enabled but GPU resources are not requested',
  );
}

/**
 * KServe injects a `storage-initializer` init container for gs:// and s3:// models from the cluster's
 * `default` ClusterStorageContainer, whose stock container sets no securityContext: under `restricted`
 * its pods would be refused. The platform patches that ClusterStorageContainer with this
 * securityContext (docs/serving.md, "Pod security").
 */
export const STORAGE_INITIALIZER_SECURITY_CONTEXT = {
  ...restrictedContainerSecurityContext(),
  runAsUser: 1000,
};
