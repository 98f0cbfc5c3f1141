import type { ServingRuntime } from '../shared/servingSelector';
import type { Config } from '@backstage/config';
import { DNS_LABEL } from '../shared/naming';
import {
  networkDefaults,
  readNetworkConfig,
  type NetworkConfig,
} from './network';
import { POD_SECURITY_VERSION } from './podsecurity';
import { isQuantity, parseQuantity } from './quantity';

export interface ServingSize {
  replicas: number;
  gpus: number;
  cpu: string;
  memory: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface PeerSelector {
  /** Namespace name, matched with the immutable `kubernetes.io/metadata.name` label. */
  namespace: string;
  podLabels: Record<string, string>;
}

/** Parsed `tensorflow.serving` section: the platform's defaults and ceilings. */
export interface ServingConfig {
  runtime: ServingRuntime;
  /** Image repository; the registry (if any) is prepended. */
  image: string;
  imageTag: string;
  registry?: string;
  gpuResourceName: string;
  gpuNodeSelector: Record<string, string>;
  gpuTolerations: Toleration[];
  /** Base of every model's storage; wizard values must stay under it. `pvc://<claim>/<path>`, `gs://`, `s3://`. */
  modelStorageBaseUri: string;
  gateway: PeerSelector & { publicBaseUrl?: string };
  dns: PeerSelector;
  /** Optional Prometheus scraper allowed to reach the REST port for metrics only. */
  metricsScraper?: PeerSelector;
  clusterDomain: string;
  environments: string[];
  /** Per-replica ceilings for wizard input. */
  limits: {
    maxReplicas: number;
    maxGpusPerReplica: number;
    maxCpuPerReplica: string;
    maxMemoryPerReplica: string;
  };
  /** Per-project ResourceQuota (hard caps); the whole deployment must fit. */
  quota: { gpus: number; cpu: string; memory: string; pods: number };
  /** LimitRange defaults for containers that set nothing. */
  containerDefaults: {
    cpuRequest: string;
    memoryRequest: string;
    cpuLimit: string;
    memoryLimit: string;
  };
  sizes: Record<'small' | 'medium' | 'large', ServingSize>;
  batching: {
    maxBatchSize: number;
    batchTimeoutMicros: number;
    maxEnqueuedBatches: number;
    numBatchThreads: number;
  };
  /** Pod Security Admission version pinned on every project namespace (`latest` or `v1.<minor>`); the level is always `restricted`. */
  podSecurityVersion: string;
  /** The flows allowed past default-deny (`tensorflow.serving.network`). */
  network: NetworkConfig;
}

const KEY = 'tensorflow.serving';

export class ServingConfigError extends Error {
  constructor(key: string, message: string) {
    super(`Invalid configuration at ${KEY}.${key}: ${message}`);
    this.name = 'ServingConfigError';
  }
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

export const SERVING_DEFAULTS: ServingConfig = {
  runtime: 'tfserving',
  image: 'tensorflow/serving',
  imageTag: '2.18.0',
  gpuResourceName: 'nvidia.com/gpu',
  gpuNodeSelector: {},
  gpuTolerations: [
    { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
  ],
  modelStorageBaseUri: 'pvc://models',
  gateway: {
    namespace: 'istio-system',
    podLabels: { istio: 'ingressgateway' },
  },
  dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
  clusterDomain: 'cluster.local',
  environments: ['development', 'staging', 'production'],
  limits: {
    maxReplicas: 4,
    maxGpusPerReplica: 1,
    maxCpuPerReplica: '8',
    maxMemoryPerReplica: '32Gi',
  },
  quota: { gpus: 4, cpu: '16', memory: '64Gi', pods: 20 },
  containerDefaults: {
    cpuRequest: '250m',
    memoryRequest: '512Mi',
    cpuLimit: '1',
    memoryLimit: '2Gi',
  },
  sizes: {
    small: { replicas: 1, gpus: 0, cpu: '1', memory: '2Gi' },
    medium: { replicas: 2, gpus: 0, cpu: '2', memory: '4Gi' },
    large: { replicas: 2, gpus: 1, cpu: '4', memory: '16Gi' },
  },
  batching: {
    maxBatchSize: 32,
    batchTimeoutMicros: 2000,
    maxEnqueuedBatches: 100,
    numBatchThreads: 4,
  },
  podSecurityVersion: 'latest',
  network: networkDefaults('other', 'none', 'pvc'),
};

function labels(
  section: Config | undefined,
  key: string,
  fallback: Record<string, string>,
): Record<string, string> {
  // Label keys contain dots and slashes, which Config key paths cannot address: read the object.
  const raw = section?.getOptional(key);
  if (raw === undefined) return fallback;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ServingConfigError(key, 'must be a map of label keys to values');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string')
      throw new ServingConfigError(`${key}.${k}`, 'must be a string');
    if (!LABEL_KEY.test(k))
      throw new ServingConfigError(
        `${key}.${k}`,
        `"${k}" is not a valid label key`,
      );
    if (!LABEL_VALUE.test(v))
      throw new ServingConfigError(
        `${key}.${k}`,
        `"${v}" is not a valid label value`,
      );
    out[k] = v;
  }
  return out;
}

function quantity(
  section: Config | undefined,
  key: string,
  fallback: string,
): string {
  const raw = section?.getOptional(key);
  if (raw === undefined) return fallback;
  const value = typeof raw === 'number' ? String(raw) : raw;
  if (!isQuantity(value)) {
    throw new ServingConfigError(
      key,
      `${JSON.stringify(raw)} is not a Kubernetes quantity such as "500m", "2", "8Gi"`,
    );
  }
  return value;
}

function integer(
  section: Config | undefined,
  key: string,
  fallback: number,
  min: number,
): number {
  const value = section?.getOptionalNumber(key) ?? fallback;
  if (!Number.isInteger(value) || value < min)
    throw new ServingConfigError(key, `${value} must be an integer >= ${min}`);
  return value;
}

function peer(
  section: Config | undefined,
  key: string,
  fallback?: PeerSelector,
): PeerSelector | undefined {
  const sub = section?.getOptionalConfig(key);
  if (!sub) return fallback;
  const namespace = sub.getOptionalString('namespace') ?? fallback?.namespace;
  if (!namespace || !DNS_LABEL.test(namespace)) {
    throw new ServingConfigError(
      `${key}.namespace`,
      `"${namespace ?? ''}" must be a namespace name`,
    );
  }
  return {
    namespace,
    podLabels: labels(sub, 'podLabels', fallback?.podLabels ?? {}),
  };
}

/**
 * Reads `tensorflow.serving`. Every value has a default, so no config at all works;
 * a bad value fails at start-up naming the key.
 */
export function readServingConfig(config: Config): ServingConfig {
  const s = config.getOptionalConfig(KEY);
  const d = SERVING_DEFAULTS;

  const runtime = s?.getOptionalString('runtime') ?? d.runtime;
  if (runtime !== 'tfserving' && runtime !== 'kserve') {
    throw new ServingConfigError(
      'runtime',
      `"${runtime}" must be "tfserving" or "kserve"`,
    );
  }
  const image = s?.getOptionalString('image') ?? d.image;
  if (!/^[a-z0-9]+([._/-][a-z0-9]+)*$/.test(image))
    throw new ServingConfigError(
      'image',
      `"${image}" is not an image repository`,
    );
  const imageTag = s?.getOptionalString('imageTag') ?? d.imageTag;
  if (
    !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}$/.test(imageTag) ||
    imageTag.endsWith('-gpu')
  ) {
    throw new ServingConfigError(
      'imageTag',
      `"${imageTag}" must be a plain tag without "-gpu" (added when GPUs are requested)`,
    );
  }
  const registry = s?.getOptionalString('registry');
  if (
    registry !== undefined &&
    !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(
      registry,
    )
  ) {
    throw new ServingConfigError(
      'registry',
      `"${registry}" is not a registry host (optionally with a path)`,
    );
  }
  const gpuResourceName =
    s?.getOptionalString('gpuResourceName') ?? d.gpuResourceName;
  if (
    !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/.test(
      gpuResourceName,
    )
  ) {
    throw new ServingConfigError(
      'gpuResourceName',
      `"${gpuResourceName}" must be an extended resource name such as nvidia.com/gpu`,
    );
  }
  const tolerationsConfig = s?.getOptionalConfigArray('gpuTolerations');
  const gpuTolerations: Toleration[] = tolerationsConfig
    ? tolerationsConfig.map((t, i) => {
        const operator = t.getOptionalString('operator') ?? 'Exists';
        const effect = t.getOptionalString('effect');
        if (operator !== 'Exists' && operator !== 'Equal') {
          throw new ServingConfigError(
            `gpuTolerations[${i}].operator`,
            `"${operator}" must be Exists or Equal`,
          );
        }
        if (
          effect !== undefined &&
          !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)
        ) {
          throw new ServingConfigError(
            `gpuTolerations[${i}].effect`,
            `"${effect}" must be NoSchedule, PreferNoSchedule or NoExecute`,
          );
        }
        const out: Toleration = { operator };
        const key = t.getOptionalString('key');
        const value = t.getOptionalString('value');
        if (key !== undefined) out.key = key;
        if (value !== undefined) out.value = value;
        if (effect !== undefined) out.effect = effect as Toleration['effect'];
        return out;
      })
    : [{ key: gpuResourceName, operator: 'Exists', effect: 'NoSchedule' }];

  const modelStorageBaseUri = (
    s?.getOptionalString('modelStorageBaseUri') ?? d.modelStorageBaseUri
  ).replace(/\/+$/, '');
  if (
    !/^(gs|s3|pvc):\/\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(
      modelStorageBaseUri,
    )
  ) {
    throw new ServingConfigError(
      'modelStorageBaseUri',
      `"${modelStorageBaseUri}" must be pvc://<claim>[/path], gs://<bucket>[/path] or s3://<bucket>[/path]`,
    );
  }

  const gateway = peer(s, 'gateway', d.gateway)!;
  const publicBaseUrl = s?.getOptionalString('gateway.publicBaseUrl');
  if (publicBaseUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(publicBaseUrl);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.search ||
      url.hash
    ) {
      throw new ServingConfigError(
        'gateway.publicBaseUrl',
        `"${publicBaseUrl}" must be an http(s) URL without query`,
      );
    }
  }
  const environments =
    s?.getOptionalStringArray('environments') ?? d.environments;
  if (environments.length === 0 || environments.some(e => !DNS_LABEL.test(e))) {
    throw new ServingConfigError(
      'environments',
      'must be a non-empty list of lowercase names',
    );
  }
  const clusterDomain =
    s?.getOptionalString('clusterDomain') ?? d.clusterDomain;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(clusterDomain)) {
    throw new ServingConfigError(
      'clusterDomain',
      `"${clusterDomain}" is not a domain`,
    );
  }

  const limits = {
    maxReplicas: integer(s, 'limits.maxReplicas', d.limits.maxReplicas, 1),
    maxGpusPerReplica: integer(
      s,
      'limits.maxGpusPerReplica',
      d.limits.maxGpusPerReplica,
      0,
    ),
    maxCpuPerReplica: quantity(
      s,
      'limits.maxCpuPerReplica',
      d.limits.maxCpuPerReplica,
    ),
    maxMemoryPerReplica: quantity(
      s,
      'limits.maxMemoryPerReplica',
      d.limits.maxMemoryPerReplica,
    ),
  };
  const quota = {
    gpus: integer(s, 'quota.gpus', d.quota.gpus, 0),
    cpu: quantity(s, 'quota.cpu', d.quota.cpu),
    memory: quantity(s, 'quota.memory', d.quota.memory),
    pods: integer(s, 'quota.pods', d.quota.pods, 1),
  };
  const containerDefaults = {
    cpuRequest: quantity(
      s,
      'containerDefaults.cpuRequest',
      d.containerDefaults.cpuRequest,
    ),
    memoryRequest: quantity(
      s,
      'containerDefaults.memoryRequest',
      d.containerDefaults.memoryRequest,
    ),
    cpuLimit: quantity(
      s,
      'containerDefaults.cpuLimit',
      d.containerDefaults.cpuLimit,
    ),
    memoryLimit: quantity(
      s,
      'containerDefaults.memoryLimit',
      d.containerDefaults.memoryLimit,
    ),
  };
  const sizes = {} as ServingConfig['sizes'];
  for (const name of ['small', 'medium', 'large'] as const) {
    const def = d.sizes[name];
    const size: ServingSize = {
      replicas: integer(s, `sizes.${name}.replicas`, def.replicas, 1),
      gpus: integer(
        s,
        `sizes.${name}.gpus`,
        Math.min(def.gpus, limits.maxGpusPerReplica),
        0,
      ),
      cpu: quantity(s, `sizes.${name}.cpu`, def.cpu),
      memory: quantity(s, `sizes.${name}.memory`, def.memory),
    };
    // A preset must be something the wizard can actually choose.
    if (size.replicas > limits.maxReplicas)
      throw new ServingConfigError(
        `sizes.${name}.replicas`,
        `${size.replicas} exceeds limits.maxReplicas ${limits.maxReplicas}`,
      );
    if (size.gpus > limits.maxGpusPerReplica)
      throw new ServingConfigError(
        `sizes.${name}.gpus`,
        `${size.gpus} exceeds limits.maxGpusPerReplica ${limits.maxGpusPerReplica}`,
      );
    if (size.gpus * size.replicas > quota.gpus)
      throw new ServingConfigError(
        `sizes.${name}.gpus`,
        `${size.replicas} x ${size.gpus} GPUs exceed quota.gpus ${quota.gpus}`,
      );
    if (parseQuantity(size.cpu)! > parseQuantity(limits.maxCpuPerReplica)!)
      throw new ServingConfigError(
        `sizes.${name}.cpu`,
        `${size.cpu} exceeds limits.maxCpuPerReplica ${limits.maxCpuPerReplica}`,
      );
    if (
      parseQuantity(size.memory)! > parseQuantity(limits.maxMemoryPerReplica)!
    )
      throw new ServingConfigError(
        `sizes.${name}.memory`,
        `${size.memory} exceeds limits.maxMemoryPerReplica ${limits.maxMemoryPerReplica}`,
      );
    sizes[name] = size;
  }
  const batching = {
    maxBatchSize: integer(
      s,
      'batching.maxBatchSize',
      d.batching.maxBatchSize,
      1,
    ),
    batchTimeoutMicros: integer(
      s,
      'batching.batchTimeoutMicros',
      d.batching.batchTimeoutMicros,
      0,
    ),
    maxEnqueuedBatches: integer(
      s,
      'batching.maxEnqueuedBatches',
      d.batching.maxEnqueuedBatches,
      1,
    ),
    numBatchThreads: integer(
      s,
      'batching.numBatchThreads',
      d.batching.numBatchThreads,
      1,
    ),
  };

  const podSecurityVersion =
    s?.getOptionalString('podSecurity.version') ?? d.podSecurityVersion;
  if (!POD_SECURITY_VERSION.test(podSecurityVersion)) {
    throw new ServingConfigError(
      'podSecurity.version',
      `"${podSecurityVersion}" must be "latest" or a Kubernetes minor version such as "v1.33"`,
    );
  }

  return {
    runtime,
    image,
    imageTag,
    ...(registry !== undefined ? { registry } : {}),
    gpuResourceName,
    gpuNodeSelector: labels(s, 'gpuNodeSelector', d.gpuNodeSelector),
    gpuTolerations,
    modelStorageBaseUri,
    gateway:
      publicBaseUrl !== undefined
        ? { ...gateway, publicBaseUrl: publicBaseUrl.replace(/\/+$/, '') }
        : gateway,
    dns: peer(s, 'dns', d.dns)!,
    ...(s?.has('metricsScraper')
      ? { metricsScraper: peer(s, 'metricsScraper')! }
      : {}),
    clusterDomain,
    environments,
    limits,
    quota,
    containerDefaults,
    sizes,
    batching,
    podSecurityVersion,
    network: readNetworkConfig(config, modelStorageBaseUri),
  };
}

/** Namespaces the platform's peers live in; no project may be named into one. */
export function servingPlatformNamespaces(config: ServingConfig): string[] {
  return [
    config.gateway.namespace,
    config.dns.namespace,
    config.metricsScraper?.namespace,
    config.network.mesh.istiod.namespace,
  ].filter((n): n is string => typeof n === 'string');
}
