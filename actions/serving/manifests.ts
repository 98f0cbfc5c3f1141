import { createHash } from 'node:crypto';
import type { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { LimitRange } from 'kubernetes-models/v1/LimitRange';
import type { Namespace } from 'kubernetes-models/v1/Namespace';
import type { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import type { Service } from 'kubernetes-models/v1/Service';
import type { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { KUBERNETES_ID, kubernetesId } from '../shared/kubernetesId';
import type { ModelProject } from '../shared/naming';
import type { ServingConfig } from './config';
import { buildNetworkPolicies } from './network';
import { buildInferenceService, validateInferenceService, type InferenceService } from './kserve';
import { podSecurityLabels, restrictedContainerSecurityContext, restrictedPodSecurityContext } from './podsecurity';
import { multiplyQuantity, parseQuantity } from './quantity';
import type { ServingSpec, VersionPolicy } from './request';
import { toTextProto, type TextProtoMessage } from './textproto';
import { readinessPath } from './probes';
import { kubernetesModels } from '../shared/kubernetesModels';
import { modelServerSelector } from '../shared/servingSelector';

export const LABEL_PREFIX = 'ml-platform.io';
export const OWNER_REF_ANNOTATION = `${LABEL_PREFIX}/owner-ref`;
export const REST_PORT = 8501;
export const GRPC_PORT = 8500;
export const KSERVE_REST_PORT = 8080;
export const CONFIG_DIR = '/etc/tfserving';
export const METRICS_PATH = '/monitoring/prometheus/metrics';

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

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Encodes an entity ref as a label value (≤ 63 chars, [A-Za-z0-9_.-], alphanumeric at both ends):
 * `group:default/ml-platform` -> `group.default.ml-platform`; too long or odd refs get a
 * truncated prefix plus a hash. The full ref is kept in the `ml-platform.io/owner-ref` annotation.
 */
export function ownerLabelValue(ref: string): string {
  const simple = ref.replace(/[:/]/g, '.');
  if (simple.length <= 63 && LABEL_VALUE.test(simple)) return simple;
  const hash = createHash('sha256').update(ref).digest('hex').slice(0, 10);
  const head = simple
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 52)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  return head ? `${head}-${hash}` : hash;
}

export function projectLabels(project: ModelProject, spec: ServingSpec): Record<string, string> {
  return {
    'app.kubernetes.io/part-of': project.name,
    'app.kubernetes.io/managed-by': 'backstage-scaffolder',
    [`${LABEL_PREFIX}/project`]: project.name,
    [`${LABEL_PREFIX}/owner`]: ownerLabelValue(project.owner),
    [`${LABEL_PREFIX}/environment`]: spec.environment,
    // Backstage's Kubernetes plugin finds every object (pods through the pod template) by this label.
    [KUBERNETES_ID]: kubernetesId(project),
  };
}

/** Labels that select the model server's pods. */
export function serverSelector(project: ModelProject, spec: ServingSpec): Record<string, string> {
  return modelServerSelector(project, spec.runtime);
}

export function servingImage(config: ServingConfig, gpus: number): string {
  const repo = config.registry ? `${config.registry}/${config.image}` : config.image;
  return `${repo}:${config.imageTag}${gpus > 0 ? '-gpu' : ''}`;
}

/** Where TF Serving reads the model: a mounted PVC path, or the gs:// / s3:// URI itself. */
export function modelLocation(storageUri: string): { basePath: string; pvc?: string } {
  const m = /^pvc:\/\/([^/]+)(\/.*)?$/.exec(storageUri);
  if (m) return { basePath: `/models${m[2] ?? ''}`, pvc: m[1] };
  return { basePath: storageUri };
}

/** TF Serving's `model_version_policy` message for a version policy. */
function versionPolicyMessage(versionPolicy: VersionPolicy): TextProtoMessage {
  if (versionPolicy.kind === 'latest') return { latest: { num_versions: versionPolicy.count } };
  if (versionPolicy.kind === 'all') return { all: {} };
  return { specific: { versions: versionPolicy.versions } };
}

export function modelConfigText(project: ModelProject, spec: ServingSpec): string {
  const policy = versionPolicyMessage(spec.versionPolicy);
  return toTextProto({
    model_config_list: {
      config: {
        name: project.name,
        base_path: modelLocation(spec.storageUri).basePath,
        model_platform: 'tensorflow',
        model_version_policy: policy,
        version_labels: Object.entries(spec.versionLabels)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, value]) => ({ key, value })),
      },
    },
  });
}

export function batchingConfigText(batching: NonNullable<ServingSpec['batching']>): string {
  return toTextProto({
    max_batch_size: { value: batching.maxBatchSize },
    batch_timeout_micros: { value: batching.batchTimeoutMicros },
    max_enqueued_batches: { value: batching.maxEnqueuedBatches },
    num_batch_threads: { value: batching.numBatchThreads },
  });
}

export function monitoringConfigText(): string {
  return toTextProto({ prometheus_config: { enable: true, path: METRICS_PATH } });
}

function isolation(project: ModelProject, spec: ServingSpec, config: ServingConfig, labels: Record<string, string>) {
  const { LimitRange, ResourceQuota } = kubernetesModels();
  const ns = project.namespace;
  const selector = serverSelector(project, spec);
  const servingPorts = spec.runtime === 'kserve' ? [KSERVE_REST_PORT] : [GRPC_PORT, REST_PORT];
  const policies = buildNetworkPolicies({
    project,
    labels,
    selector,
    servingPorts,
    gateway: config.gateway,
    dns: config.dns,
    metricsScraper: config.metricsScraper,
    appMetricsPort: spec.runtime === 'kserve' ? KSERVE_REST_PORT : REST_PORT,
    network: config.network,
  });
  const gpu = config.gpuResourceName;
  const quota = new ResourceQuota({
    metadata: { name: 'project-quota', namespace: ns, labels },
    spec: {
      hard: {
        'requests.cpu': config.quota.cpu,
        'limits.cpu': config.quota.cpu,
        'requests.memory': config.quota.memory,
        'limits.memory': config.quota.memory,
        [`requests.${gpu}`]: String(config.quota.gpus),
        pods: String(config.quota.pods),
        'services.loadbalancers': '0',
        'services.nodeports': '0',
      },
    },
  });
  const d = config.containerDefaults;
  const limitRange = new LimitRange({
    metadata: { name: 'container-defaults', namespace: ns, labels },
    spec: {
      limits: [
        {
          type: 'Container',
          default: { cpu: d.cpuLimit, memory: d.memoryLimit },
          defaultRequest: { cpu: d.cpuRequest, memory: d.memoryRequest },
          max: {
            cpu: config.limits.maxCpuPerReplica,
            memory: config.limits.maxMemoryPerReplica,
            ...(config.limits.maxGpusPerReplica > 0 ? { [gpu]: String(config.limits.maxGpusPerReplica) } : {}),
          },
        },
      ],
    },
  });
  return { policies, quota, limitRange };
}

function resources(spec: ServingSpec, config: ServingConfig) {
  const gpu = spec.gpus > 0 ? { [config.gpuResourceName]: String(spec.gpus) } : {};
  return {
    requests: { cpu: spec.cpu, memory: spec.memory, ...gpu },
    limits: { cpu: spec.cpu, memory: spec.memory, ...gpu },
  };
}

/** One extra pod during a rollout only if the quota has room for it (GPUs are scarce). */
function rolloutStrategy(spec: ServingSpec, config: ServingConfig) {
  const n = spec.replicas + 1;
  const fits =
    n * spec.gpus <= config.quota.gpus &&
    n <= config.quota.pods &&
    parseQuantity(multiplyQuantity(spec.cpu, n))! <= parseQuantity(config.quota.cpu)! &&
    parseQuantity(multiplyQuantity(spec.memory, n))! <= parseQuantity(config.quota.memory)!;
  return {
    type: 'RollingUpdate' as const,
    rollingUpdate: fits ? { maxSurge: 1, maxUnavailable: 0 } : { maxSurge: 0, maxUnavailable: 1 },
  };
}

const podSecurityContext = restrictedPodSecurityContext();
const containerSecurityContext = { ...restrictedContainerSecurityContext(), readOnlyRootFilesystem: true };

function tfServing(project: ModelProject, spec: ServingSpec, config: ServingConfig, labels: Record<string, string>, annotations: Record<string, string>) {
  const { ConfigMap, Deployment, Service } = kubernetesModels();
  const ns = project.namespace;
  const selector = serverSelector(project, spec);
  const configName = `${project.name}-tfserving-config`;
  const location = modelLocation(spec.storageUri);
  const data: Record<string, string> = {
    'models.config': modelConfigText(project, spec),
    'monitoring.config': monitoringConfigText(),
  };
  if (spec.batching) data['batching.config'] = batchingConfigText(spec.batching);
  const configMap = new ConfigMap({ metadata: { name: configName, namespace: ns, labels, annotations }, data });

  const args = [
    `--port=${GRPC_PORT}`,
    `--rest_api_port=${REST_PORT}`,
    `--model_config_file=${CONFIG_DIR}/models.config`,
    '--model_config_file_poll_wait_seconds=60',
    `--monitoring_config_file=${CONFIG_DIR}/monitoring.config`,
    ...(spec.batching ? ['--enable_batching=true', `--batching_parameters_file=${CONFIG_DIR}/batching.config`] : []),
  ];
  const statusPath = `/v1/models/${project.name}`;
  const gpu = spec.gpus > 0;
  const podLabels = { ...labels, ...selector, [`${LABEL_PREFIX}/model-version-policy`]: spec.versionPolicy.kind };
  const deployment = new Deployment({
    metadata: { name: project.name, namespace: ns, labels: { ...labels, ...selector }, annotations },
    spec: {
      replicas: spec.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      strategy: rolloutStrategy(spec, config),
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(REST_PORT),
            'prometheus.io/path': METRICS_PATH,
          },
        },
        spec: {
          serviceAccountName: project.serviceAccount,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext,
          ...(gpu && Object.keys(config.gpuNodeSelector).length > 0 ? { nodeSelector: { ...config.gpuNodeSelector } } : {}),
          ...(gpu ? { tolerations: config.gpuTolerations.map(t => ({ ...t })) } : {}),
          containers: [
            {
              name: 'tensorflow-serving',
              image: servingImage(config, spec.gpus),
              command: ['tensorflow_model_server'],
              args,
              ports: [
                { name: 'grpc', containerPort: GRPC_PORT, protocol: 'TCP' },
                { name: 'http', containerPort: REST_PORT, protocol: 'TCP' },
              ],
              resources: resources(spec, config),
              // Status answers 200 for any known version, even LOADING or END; metadata only when the version is AVAILABLE.
              startupProbe: { httpGet: { path: statusPath, port: 'http' }, periodSeconds: 10, failureThreshold: 60 },
              readinessProbe: { httpGet: { path: readinessPath(project, spec), port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
              livenessProbe: { httpGet: { path: statusPath, port: 'http' }, periodSeconds: 20, failureThreshold: 3, timeoutSeconds: 5 },
              securityContext: containerSecurityContext,
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                ...(location.pvc ? [{ name: 'models', mountPath: '/models', readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: configName } },
            { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
            ...(location.pvc ? [{ name: 'models', persistentVolumeClaim: { claimName: location.pvc, readOnly: true } }] : []),
          ],
        },
      },
    },
  });
  const service = new Service({
    metadata: { name: project.name, namespace: ns, labels, annotations },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [
        { name: 'grpc', port: GRPC_PORT, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
        { name: 'http', port: REST_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
      ],
    },
  });
  return { configMap, deployment, service };
}

/**
 * All manifests of one project's serving endpoint. Pure: values in, typed objects out.
 * Every object is validated (kubernetes-models `.validate()`, own schema for KServe).
 */
export function buildServingManifests(project: ModelProject, spec: ServingSpec, config: ServingConfig): ServingManifests {
  const { Namespace, PodDisruptionBudget } = kubernetesModels();
  const labels = projectLabels(project, spec);
  const annotations = { [OWNER_REF_ANNOTATION]: project.owner };
  const ns = project.namespace;
  const manifests: ServingManifest[] = [
    // istio-injection: the gateway's RequestAuthentication and AuthorizationPolicy only apply to pods with a sidecar
    new Namespace({
      metadata: {
        name: ns,
        labels: { ...labels, 'kubernetes.io/metadata.name': ns, 'istio-injection': config.network.mesh.enabled ? 'enabled' : 'disabled', ...podSecurityLabels(config.podSecurityVersion) },
        annotations,
      },
    }),
  ];
  const { policies, quota, limitRange } = isolation(project, spec, config, labels);
  manifests.push(quota, limitRange, ...policies);

  const domain = `svc.${config.clusterDomain}`;
  const endpoints: ServingEndpoints = { rest: '' };
  if (spec.runtime === 'kserve') {
    manifests.push(buildInferenceService(project, spec, config, labels, annotations));
    endpoints.rest = `http://${project.name}-predictor.${ns}.${domain}/v1/models/${project.name}`;
  } else {
    const { configMap, deployment, service } = tfServing(project, spec, config, labels, annotations);
    manifests.push(configMap, deployment, service);
    endpoints.rest = `http://${project.name}.${ns}.${domain}:${REST_PORT}/v1/models/${project.name}`;
    endpoints.grpc = `${project.name}.${ns}.${domain}:${GRPC_PORT}`;
  }
  if (spec.replicas > 1) {
    manifests.push(
      new PodDisruptionBudget({
        metadata: { name: project.name, namespace: ns, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: serverSelector(project, spec) } },
      }),
    );
  }
  if (config.gateway.publicBaseUrl) {
    endpoints.gateway = `${config.gateway.publicBaseUrl}/${project.name}/v1/models/${project.name}`;
  }
  for (const m of manifests) {
    if (m.kind === 'InferenceService') validateInferenceService(m as InferenceService);
    else (m as Exclude<ServingManifest, InferenceService>).validate();
  }
  return { manifests, endpoints };
}
