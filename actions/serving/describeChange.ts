import type { ModelProject } from '../shared/naming';
import type { ServingConfig } from './config';
import type { ServingEndpoints } from './manifests';
import type { ServingSpec } from './request';
import { servingImage } from './tfserving';

/** Pull-request body: what will be created, in words a reviewer can check. */
export function describeChange(
  project: ModelProject,
  spec: ServingSpec,
  serving: ServingConfig,
  endpoints: ServingEndpoints,
  files: string[],
  initiator: string,
): string {
  const runtime =
    spec.runtime === 'kserve'
      ? 'KServe InferenceService (RawDeployment)'
      : `TensorFlow Serving Deployment (${servingImage(serving, spec.gpus)})`;
  const lines = [
    `Serving endpoint for model project **${project.name}**, owned by \`${project.owner}\`, requested by \`${initiator}\`.`,
    '',
    `- Namespace \`${project.namespace}\` (environment \`${spec.environment}\`), service account \`${project.serviceAccount}\` (no token automount)`,
    `- ${runtime}: ${spec.replicas} replica(s), ${spec.gpus} GPU(s), ${spec.cpu} CPU and ${spec.memory} memory per replica`,
    `- Model from \`${spec.storageUri}\`, version policy \`${spec.versionPolicy.kind}\`${
      Object.keys(spec.versionLabels).length
        ? `, labels ${Object.entries(spec.versionLabels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`
        : ''
    }${spec.batching ? ', batching on' : ''}`,
    `- Isolation: default-deny NetworkPolicy (ingress and egress), ingress only from \`${serving.gateway.namespace}\` gateway pods; egress: DNS${serving.network.mesh.enabled ? ', istiod' : ''}${spec.storageUri.startsWith('pvc://') ? '' : ', model storage'}${serving.network.workloadIdentity.length ? ', workload identity endpoint' : ''}${serving.network.sts.cidrs.length ? ', STS' : ''}; Pod Security \`restricted\` enforced`,
    `- ResourceQuota: ${serving.quota.gpus} GPU(s) (\`requests.${serving.gpuResourceName}\`), ${serving.quota.cpu} CPU, ${serving.quota.memory} memory, ${serving.quota.pods} pods; LimitRange defaults`,
    `- Endpoints: REST \`${endpoints.rest}\`${endpoints.grpc ? `, gRPC \`${endpoints.grpc}\`` : ''}${endpoints.gateway ? `, gateway ${endpoints.gateway}` : ''}`,
    '',
    'Files:',
    ...files.map(f => `- \`${f}\``),
  ];
  return lines.join('\n');
}
