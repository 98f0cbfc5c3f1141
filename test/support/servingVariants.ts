import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import {
  readServingConfig,
  type ServingConfig,
} from '../../actions/serving/config';
import { buildServingManifests } from '../../actions/serving/manifests';
import {
  resolveServingSpec,
  type ServingRequest,
} from '../../actions/serving/request';
import { deriveProject, type ModelProject } from '../../actions/shared/naming';

/** Every configuration variant the serving config allows that changes what is generated. */
export const CLOUDS = ['none', 'gke', 'eks-irsa', 'eks-pod-identity'] as const;
export type Cloud = (typeof CLOUDS)[number];
export const RUNTIMES = ['tfserving', 'kserve'] as const;
export const MESH = [true, false] as const;

export interface Variant {
  cloud: Cloud;
  runtime: (typeof RUNTIMES)[number];
  mesh: boolean;
  gpus: number;
  storage: 'pvc' | 'gs' | 's3';
  batching: boolean;
  replicas: number;
}

export function variantName(v: Variant): string {
  return `${v.cloud}/${v.runtime}/mesh-${v.mesh ? 'on' : 'off'}/${v.gpus ? 'gpu' : 'cpu'}/${v.storage}${v.batching ? '/batching' : ''}/x${v.replicas}`;
}

/** Natural storage per cloud, plus PVC everywhere. */
function storagesFor(cloud: Cloud): Variant['storage'][] {
  if (cloud === 'gke') return ['gs', 'pvc'];
  if (cloud === 'eks-irsa' || cloud === 'eks-pod-identity')
    return ['s3', 'pvc'];
  return ['pvc'];
}

export function allVariants(): Variant[] {
  const out: Variant[] = [];
  for (const cloud of CLOUDS)
    for (const runtime of RUNTIMES)
      for (const mesh of MESH)
        for (const gpus of [0, 1])
          for (const storage of storagesFor(cloud))
            for (const [batching, replicas] of [
              [false, 1],
              [true, 2],
            ] as const)
              out.push({
                cloud,
                runtime,
                mesh,
                gpus,
                storage,
                batching,
                replicas,
              });
  return out;
}

const BASES = {
  pvc: 'pvc://models',
  gs: 'gs://acme-models/serving',
  s3: 's3://acme-models/serving',
};

export function identitySection(cloud: Cloud): Record<string, unknown> {
  if (cloud === 'gke')
    return {
      provider: 'gke',
      gke: { projectId: 'acme-ml-prod', projectNumber: '123456789012' },
    };
  if (cloud === 'eks-irsa') {
    return {
      provider: 'eks-irsa',
      aws: {
        accountId: '111122223333',
        region: 'eu-west-1',
        oidcProvider: 'oidc.eks.eu-west-1.amazonaws.com/id/ABC123',
      },
    };
  }
  if (cloud === 'eks-pod-identity') {
    return {
      provider: 'eks-pod-identity',
      aws: {
        accountId: '111122223333',
        region: 'eu-west-1',
        clusterName: 'ml-prod',
      },
    };
  }
  return { provider: 'none' };
}

export function variantAppConfig(
  v: Variant,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    tensorflow: {
      namespacePrefix: 'ml-',
      identity: identitySection(v.cloud),
      serving: {
        runtime: v.runtime,
        modelStorageBaseUri: BASES[v.storage],
        gateway: {
          namespace: 'istio-ingress',
          podLabels: { istio: 'ingressgateway' },
          publicBaseUrl: 'https://models.example.com',
        },
        metricsScraper: {
          namespace: 'monitoring',
          podLabels: { 'app.kubernetes.io/name': 'prometheus' },
        },
        gpuNodeSelector: { 'nvidia.com/gpu.present': 'true' },
        network: { mesh: { enabled: v.mesh } },
        ...extra,
      },
    },
  };
}

export function variantConfig(
  v: Variant,
  extra: Record<string, unknown> = {},
): ServingConfig {
  return readServingConfig(
    new ConfigReader(variantAppConfig(v, extra) as JsonObject),
  );
}

export const variantProject: ModelProject = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  { namespacePrefix: 'ml-' },
);

export function buildVariant(v: Variant, extra: Record<string, unknown> = {}) {
  const config = variantConfig(v, extra);
  const request: ServingRequest = {
    replicas: v.replicas,
    gpus: v.gpus,
    cpu: '2',
    memory: '4Gi',
    ...(v.batching ? { batching: { enabled: true } } : {}),
  };
  const spec = resolveServingSpec(request, variantProject, config);
  return {
    config,
    spec,
    ...buildServingManifests(variantProject, spec, config),
  };
}
