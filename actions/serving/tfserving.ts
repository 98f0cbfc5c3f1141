/** The TF Serving workload: its config files (model config, batching, monitoring), Deployment and Service. */
import type { ModelProject } from '../shared/naming';
import { kubernetesModels } from '../shared/kubernetesModels';
import type { ServingConfig } from './config';
import {
  CONFIG_DIR,
  GRPC_PORT,
  LABEL_PREFIX,
  METRICS_PATH,
  REST_PORT,
  serverSelector,
} from './labels';
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './podsecurity';
import { readinessPath } from './probes';
import { multiplyQuantity, parseQuantity } from './quantity';
import type { ServingSpec, VersionPolicy } from './request';
import { toTextProto, type TextProtoMessage } from './textproto';

export function servingImage(config: ServingConfig, gpus: number): string {
  const repo = config.registry
    ? `${config.registry}/${config.image}`
    : config.image;
  return `${repo}:${config.imageTag}${gpus > 0 ? '-gpu' : ''}`;
}

/** Where TF Serving reads the model: a mounted PVC path, or the gs:// / s3:// URI itself. */
export function modelLocation(storageUri: string): {
  basePath: string;
  pvc?: string;
} {
  const m = /^pvc:\/\/([^/]+)(\/.*)?$/.exec(storageUri);
  if (m) return { basePath: `/models${m[2] ?? ''}`, pvc: m[1] };
  return { basePath: storageUri };
}

/** TF Serving's `model_version_policy` message for a version policy. */
function versionPolicyMessage(versionPolicy: VersionPolicy): TextProtoMessage {
  if (versionPolicy.kind === 'latest')
    return { latest: { num_versions: versionPolicy.count } };
  if (versionPolicy.kind === 'all') return { all: {} };
  return { specific: { versions: versionPolicy.versions } };
}

export function modelConfigText(
  project: ModelProject,
  spec: ServingSpec,
): string {
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

export function batchingConfigText(
  batching: NonNullable<ServingSpec['batching']>,
): string {
  return toTextProto({
    max_batch_size: { value: batching.maxBatchSize },
    batch_timeout_micros: { value: batching.batchTimeoutMicros },
    max_enqueued_batches: { value: batching.maxEnqueuedBatches },
    num_batch_threads: { value: batching.numBatchThreads },
  });
}

export function monitoringConfigText(): string {
  return toTextProto({
    prometheus_config: { enable: true, path: METRICS_PATH },
  });
}

function resources(spec: ServingSpec, config: ServingConfig) {
  const gpu =
    spec.gpus > 0 ? { [config.gpuResourceName]: String(spec.gpus) } : {};
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
    parseQuantity(multiplyQuantity(spec.cpu, n))! <=
      parseQuantity(config.quota.cpu)! &&
    parseQuantity(multiplyQuantity(spec.memory, n))! <=
      parseQuantity(config.quota.memory)!;
  return {
    type: 'RollingUpdate' as const,
    rollingUpdate: fits
      ? { maxSurge: 1, maxUnavailable: 0 }
      : { maxSurge: 0, maxUnavailable: 1 },
  };
}

const podSecurityContext = restrictedPodSecurityContext();
const containerSecurityContext = {
  ...restrictedContainerSecurityContext(),
  readOnlyRootFilesystem: true,
};

export function tfServing(
  project: ModelProject,
  spec: ServingSpec,
  config: ServingConfig,
  labels: Record<string, string>,
  annotations: Record<string, string>,
) {
  const { ConfigMap, Deployment, Service } = kubernetesModels();
  const ns = project.namespace;
  const selector = serverSelector(project, spec);
  const configName = `${project.name}-tfserving-config`;
  const location = modelLocation(spec.storageUri);
  const data: Record<string, string> = {
    'models.config': modelConfigText(project, spec),
    'monitoring.config': monitoringConfigText(),
  };
  if (spec.batching)
    data['batching.config'] = batchingConfigText(spec.batching);
  const configMap = new ConfigMap({
    metadata: { name: configName, namespace: ns, labels, annotations },
    data,
  });

  const args = [
    `--port=${GRPC_PORT}`,
    `--rest_api_port=${REST_PORT}`,
    `--model_config_file=${CONFIG_DIR}/models.config`,
    '--model_config_file_poll_wait_seconds=60',
    `--monitoring_config_file=${CONFIG_DIR}/monitoring.config`,
    ...(spec.batching
      ? [
          '--enable_batching=true',
          `--batching_parameters_file=${CONFIG_DIR}/batching.config`,
        ]
      : []),
  ];
  const statusPath = `/v1/models/${project.name}`;
  const gpu = spec.gpus > 0;
  const podLabels = {
    ...labels,
    ...selector,
    [`${LABEL_PREFIX}/model-version-policy`]: spec.versionPolicy.kind,
  };
  const deployment = new Deployment({
    metadata: {
      name: project.name,
      namespace: ns,
      labels: { ...labels, ...selector },
      annotations,
    },
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
          ...(gpu && Object.keys(config.gpuNodeSelector).length > 0
            ? { nodeSelector: { ...config.gpuNodeSelector } }
            : {}),
          ...(gpu
            ? { tolerations: config.gpuTolerations.map(t => ({ ...t })) }
            : {}),
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
              startupProbe: {
                httpGet: { path: statusPath, port: 'http' },
                periodSeconds: 10,
                failureThreshold: 60,
              },
              readinessProbe: {
                httpGet: { path: readinessPath(project, spec), port: 'http' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: statusPath, port: 'http' },
                periodSeconds: 20,
                failureThreshold: 3,
                timeoutSeconds: 5,
              },
              securityContext: containerSecurityContext,
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                ...(location.pvc
                  ? [{ name: 'models', mountPath: '/models', readOnly: true }]
                  : []),
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: configName } },
            { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
            ...(location.pvc
              ? [
                  {
                    name: 'models',
                    persistentVolumeClaim: {
                      claimName: location.pvc,
                      readOnly: true,
                    },
                  },
                ]
              : []),
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
        {
          name: 'grpc',
          port: GRPC_PORT,
          targetPort: 'grpc',
          protocol: 'TCP',
          appProtocol: 'grpc',
        },
        {
          name: 'http',
          port: REST_PORT,
          targetPort: 'http',
          protocol: 'TCP',
          appProtocol: 'http',
        },
      ],
    },
  });
  return { configMap, deployment, service };
}
