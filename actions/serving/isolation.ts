/** The project's isolation: network policies, resource quota and container defaults of its namespace. */
import type { ModelProject } from '../shared/naming';
import { kubernetesModels } from '../shared/kubernetesModels';
import type { ServingConfig } from './config';
import {
  GRPC_PORT,
  KSERVE_REST_PORT,
  REST_PORT,
  serverSelector,
} from './labels';
import { buildNetworkPolicies } from './network';
import type { ServingSpec } from './request';

export function isolation(
  project: ModelProject,
  spec: ServingSpec,
  config: ServingConfig,
  labels: Record<string, string>,
) {
  const { LimitRange, ResourceQuota } = kubernetesModels();
  const ns = project.namespace;
  const selector = serverSelector(project, spec);
  const servingPorts =
    spec.runtime === 'kserve' ? [KSERVE_REST_PORT] : [GRPC_PORT, REST_PORT];
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
            ...(config.limits.maxGpusPerReplica > 0
              ? { [gpu]: String(config.limits.maxGpusPerReplica) }
              : {}),
          },
        },
      ],
    },
  });
  return { policies, quota, limitRange };
}
