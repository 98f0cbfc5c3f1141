import { InputError } from '@backstage/errors';
import type { ServingConfig } from './config';
import { isQuantity, multiplyQuantity, parseQuantity } from './quantity';

/** What the wizard may ask for (raw action input: zod defaults never ran). */
export interface ServingRequest {
  environment?: string;
  size?: 'small' | 'medium' | 'large';
  replicas?: number;
  gpus?: number;
  cpu?: string;
  memory?: string;
  versionPolicy?: 'latest' | 'all' | 'specific';
  /** For `latest`: how many versions to serve (default 1). */
  latestVersions?: number;
  /** For `specific`: the versions to serve. */
  versions?: number[];
  /** Version labels, e.g. { stable: 3, canary: 4 }. */
  versionLabels?: Record<string, number>;
  batching?: {
    enabled?: boolean;
    maxBatchSize?: number;
    batchTimeoutMicros?: number;
    maxEnqueuedBatches?: number;
    numBatchThreads?: number;
  };
  /** Model location; must be under the platform's model storage base. Default `<base>/<project>`. */
  storageUri?: string;
}

export type VersionPolicy =
  | { kind: 'latest'; count: number }
  | { kind: 'all' }
  | { kind: 'specific'; versions: number[] };

/** A validated, fully defaulted serving request within the platform's ceilings. */
export interface ServingSpec {
  runtime: 'tfserving' | 'kserve';
  environment: string;
  replicas: number;
  gpus: number;
  cpu: string;
  memory: string;
  versionPolicy: VersionPolicy;
  versionLabels: Record<string, number>;
  batching?: {
    maxBatchSize: number;
    batchTimeoutMicros: number;
    maxEnqueuedBatches: number;
    numBatchThreads: number;
  };
  storageUri: string;
}

const VERSION_LABEL = /^[a-zA-Z0-9_]+$/;
const URI_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function int(
  field: string,
  value: unknown,
  min: number,
  max: number,
  fix: string,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new InputError(`${field} must be a whole number; ${fix}`);
  if (value < min)
    throw new InputError(`${field} is ${value}; it must be at least ${min}`);
  if (value > max)
    throw new InputError(
      `${field} is ${value}, above the platform's ceiling of ${max}; ${fix}`,
    );
  return value;
}

function qty(field: string, value: unknown, max: string): string {
  if (!isQuantity(value)) {
    throw new InputError(
      `${field} ${String(JSON.stringify(value)).slice(0, 80)} is not a Kubernetes quantity; use one such as "500m", "2" or "4Gi"`,
    );
  }
  if (parseQuantity(value)! <= 0)
    throw new InputError(`${field} must be greater than zero`);
  if (parseQuantity(value)! > parseQuantity(max)!) {
    throw new InputError(
      `${field} ${value} is above the platform's per-replica ceiling of ${max}; choose at most ${max}`,
    );
  }
  return value;
}

/** Validates a storage URI: allowed scheme, no odd segments, under the configured base. */
export function resolveStorageUri(
  value: unknown,
  base: string,
  project: string,
): string {
  const uri =
    value === undefined || value === '' ? `${base}/${project}` : value;
  if (typeof uri !== 'string')
    throw new InputError(
      'storageUri must be a string such as "pvc://models/fraud-detector"',
    );
  const m = /^(gs|s3|pvc):\/\/([^/]+)((?:\/[^/]+)*)\/?$/.exec(uri);
  const segments = m ? m[3].split('/').filter(Boolean) : [];
  if (
    !m ||
    !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(m[2]) ||
    segments.some(s => !URI_SEGMENT.test(s))
  ) {
    throw new InputError(
      `storageUri "${uri.slice(0, 200)}" must be a gs://, s3:// or pvc:// URI with plain path segments`,
    );
  }
  const normal = `${m[1]}://${m[2]}${segments.map(s => `/${s}`).join('')}`;
  if (normal !== base && !normal.startsWith(`${base}/`)) {
    throw new InputError(
      `storageUri "${normal}" is outside the platform's model storage "${base}"; use a location under it`,
    );
  }
  return normal;
}

/** Applies the size preset and defaults, and enforces the platform's ceilings. Throws InputError naming the field. */
export function resolveServingSpec(
  request: ServingRequest,
  project: { name: string },
  config: ServingConfig,
): ServingSpec {
  const environment = request.environment ?? config.environments[0];
  if (!config.environments.includes(environment)) {
    throw new InputError(
      `environment "${String(environment).slice(0, 80)}" is not offered; choose one of: ${config.environments.join(', ')}`,
    );
  }
  if (request.size !== undefined && !(request.size in config.sizes)) {
    throw new InputError(
      `size "${String(request.size).slice(0, 40)}" is unknown; choose small, medium or large`,
    );
  }
  if (request.size !== undefined) {
    // a preset sets these itself; taking both would let a value the person no longer sees win over the preset they chose
    const explicit = (['replicas', 'gpus', 'cpu', 'memory'] as const).filter(
      f => request[f] !== undefined,
    );
    if (explicit.length > 0) {
      throw new InputError(
        `size "${request.size}" is a preset that sets replicas, gpus, cpu and memory, so it cannot be combined with ${explicit.join(', ')}; send either size or explicit ${explicit.join(', ')}, not both`,
      );
    }
  }
  const preset = config.sizes[request.size ?? 'small'];
  const { limits, quota } = config;
  const replicas = int(
    'replicas',
    request.replicas ?? preset.replicas,
    1,
    limits.maxReplicas,
    `ask for at most ${limits.maxReplicas}`,
  );
  const gpus = int(
    'gpus',
    request.gpus ?? preset.gpus,
    0,
    limits.maxGpusPerReplica,
    `the platform allows at most ${limits.maxGpusPerReplica} GPU(s) per replica`,
  );
  const cpu = qty('cpu', request.cpu ?? preset.cpu, limits.maxCpuPerReplica);
  const memory = qty(
    'memory',
    request.memory ?? preset.memory,
    limits.maxMemoryPerReplica,
  );

  if (replicas * gpus > quota.gpus) {
    throw new InputError(
      `gpus: ${replicas} replicas x ${gpus} GPU(s) = ${replicas * gpus} GPUs, above the project's GPU quota of ${quota.gpus}; lower replicas or gpus`,
    );
  }
  if (
    parseQuantity(multiplyQuantity(cpu, replicas))! > parseQuantity(quota.cpu)!
  ) {
    throw new InputError(
      `cpu: ${replicas} replicas x ${cpu} exceeds the project's CPU quota of ${quota.cpu}; lower replicas or cpu`,
    );
  }
  if (
    parseQuantity(multiplyQuantity(memory, replicas))! >
    parseQuantity(quota.memory)!
  ) {
    throw new InputError(
      `memory: ${replicas} replicas x ${memory} exceeds the project's memory quota of ${quota.memory}; lower replicas or memory`,
    );
  }
  if (replicas > quota.pods)
    throw new InputError(
      `replicas ${replicas} exceeds the project's pod quota of ${quota.pods}`,
    );

  const kind = request.versionPolicy ?? 'latest';
  let versionPolicy: VersionPolicy;
  if (kind === 'latest') {
    versionPolicy = {
      kind,
      count: int(
        'latestVersions',
        request.latestVersions ?? 1,
        1,
        10,
        'serve at most 10 versions',
      ),
    };
  } else if (kind === 'all') {
    versionPolicy = { kind };
  } else if (kind === 'specific') {
    const versions = request.versions ?? [];
    if (!Array.isArray(versions) || versions.length === 0) {
      throw new InputError(
        'versions is required when versionPolicy is "specific": list the model versions to serve, e.g. [3, 4]',
      );
    }
    versions.forEach((v, i) =>
      int(
        `versions[${i}]`,
        v,
        1,
        Number.MAX_SAFE_INTEGER,
        'use positive version numbers',
      ),
    );
    versionPolicy = {
      kind,
      versions: [...new Set(versions)].sort((a, b) => a - b),
    };
  } else {
    throw new InputError(
      `versionPolicy "${String(kind).slice(0, 40)}" is unknown; choose latest, all or specific`,
    );
  }
  const versionLabels: Record<string, number> = {};
  for (const [label, version] of Object.entries(request.versionLabels ?? {})) {
    if (!VERSION_LABEL.test(label))
      throw new InputError(
        `versionLabels key "${label}" may use only letters, digits and "_"`,
      );
    int(
      `versionLabels.${label}`,
      version,
      1,
      Number.MAX_SAFE_INTEGER,
      'use a positive version number',
    );
    if (
      versionPolicy.kind === 'specific' &&
      !versionPolicy.versions.includes(version)
    ) {
      throw new InputError(
        `versionLabels.${label} points at version ${version}, which is not in versions [${versionPolicy.versions.join(', ')}]`,
      );
    }
    versionLabels[label] = version;
  }
  if (Object.keys(versionLabels).length > 0 && config.runtime === 'kserve') {
    throw new InputError(
      'versionLabels are not supported with the KServe runtime on this platform; remove them',
    );
  }

  let batching: ServingSpec['batching'];
  if (
    request.batching !== undefined &&
    (typeof request.batching !== 'object' ||
      request.batching === null ||
      Array.isArray(request.batching))
  ) {
    throw new InputError(
      'batching must be an object such as { "enabled": true, "maxBatchSize": 32 }',
    );
  }
  if (request.batching?.enabled) {
    const d = config.batching;
    const b = request.batching;
    batching = {
      maxBatchSize: int(
        'batching.maxBatchSize',
        b.maxBatchSize ?? d.maxBatchSize,
        1,
        4096,
        'use at most 4096',
      ),
      batchTimeoutMicros: int(
        'batching.batchTimeoutMicros',
        b.batchTimeoutMicros ?? d.batchTimeoutMicros,
        0,
        1_000_000,
        'use at most 1000000 (1 s)',
      ),
      maxEnqueuedBatches: int(
        'batching.maxEnqueuedBatches',
        b.maxEnqueuedBatches ?? d.maxEnqueuedBatches,
        1,
        1_000_000,
        'use at most 1000000',
      ),
      numBatchThreads: int(
        'batching.numBatchThreads',
        b.numBatchThreads ?? d.numBatchThreads,
        1,
        64,
        'use at most 64',
      ),
    };
  }
  const storageUri = resolveStorageUri(
    request.storageUri,
    config.modelStorageBaseUri,
    project.name,
  );
  return {
    runtime: config.runtime,
    environment,
    replicas,
    gpus,
    cpu,
    memory,
    versionPolicy,
    versionLabels,
    batching,
    storageUri,
  };
}
