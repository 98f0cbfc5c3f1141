import { ConfigReader } from '@backstage/config';
import { parse } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { deriveProject } from '../shared/naming';
import { readServingConfig, type ServingConfig } from './config';
import { servingManifestFiles as manifestFiles } from './files';
import { validateInferenceService, type InferenceService } from './kserve';
import { ownerLabelValue } from './labels';
import { buildServingManifests } from './manifests';
import { modelConfigText } from './tfserving';
import { resolveServingSpec, type ServingRequest } from './request';

const naming = { namespacePrefix: 'ml-' };
const project = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  naming,
);
const models: Record<string, { new (data: any): { validate(): void } }> = {
  Namespace,
  ResourceQuota,
  LimitRange,
  NetworkPolicy,
  ConfigMap,
  Deployment,
  Service,
  PodDisruptionBudget,
};

function config(serving: object = {}): ServingConfig {
  return readServingConfig(
    new ConfigReader({
      tensorflow: {
        serving: {
          gateway: {
            namespace: 'gateway-system',
            podLabels: { app: 'model-gateway' },
            publicBaseUrl: 'https://models.example.com',
          },
          gpuNodeSelector: { 'nvidia.com/gpu.present': 'true' },
          ...serving,
        },
      },
    }),
  );
}

function build(request: ServingRequest, cfg = config()) {
  const spec = resolveServingSpec(request, project, cfg);
  const built = buildServingManifests(project, spec, cfg);
  const files = manifestFiles(built.manifests, project);
  // Read back what goes into git and validate it against the Kubernetes schemas.
  const objects = files.map(f => parse(f.content));
  for (const o of objects) {
    if (o.kind === 'InferenceService')
      validateInferenceService(o as InferenceService);
    else new models[o.kind](o).validate();
  }
  const find = (kind: string, name?: string) =>
    objects.find(o => o.kind === kind && (!name || o.metadata.name === name));
  return { spec, built, files, objects, find };
}

describe('TF Serving manifests', () => {
  it('builds a valid, isolated CPU endpoint', () => {
    const { objects, find, built, files } = build({
      environment: 'development',
    });
    expect(objects.map(o => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'LimitRange',
      'Namespace',
      'NetworkPolicy',
      'NetworkPolicy',
      'NetworkPolicy',
      'NetworkPolicy',
      'ResourceQuota',
      'Service',
    ]);
    expect(files.map(f => f.path)).toContain(
      'projects/ml-fraud-detector/serving/deployment-fraud-detector.yaml',
    );
    expect(files.map(f => f.path)).toContain(
      'projects/ml-fraud-detector/serving/namespace-ml-fraud-detector.yaml',
    );

    const ns = find('Namespace');
    expect(ns.metadata.name).toBe('ml-fraud-detector');
    expect(ns.metadata.labels['ml-platform.io/owner']).toBe(
      'group.default.ml-platform',
    );
    expect(ns.metadata.labels['ml-platform.io/project']).toBe('fraud-detector');
    expect(ns.metadata.annotations['ml-platform.io/owner-ref']).toBe(
      'group:default/ml-platform',
    );
    for (const o of objects.filter(x => x.kind !== 'Namespace'))
      expect(o.metadata.namespace).toBe('ml-fraud-detector');

    // default deny, ingress and egress, for every pod
    const deny = find('NetworkPolicy', 'default-deny-all');
    expect(deny.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
    // only the gateway may connect, on the serving ports
    const policies = objects.filter(o => o.kind === 'NetworkPolicy');
    const ingressRules = policies.flatMap(p => p.spec.ingress ?? []);
    expect(ingressRules).toEqual([
      {
        from: [
          {
            namespaceSelector: {
              matchLabels: { 'kubernetes.io/metadata.name': 'gateway-system' },
            },
            podSelector: { matchLabels: { app: 'model-gateway' } },
          },
        ],
        ports: [
          { port: 8500, protocol: 'TCP' },
          { port: 8501, protocol: 'TCP' },
        ],
      },
    ]);
    // DNS and (with the mesh) istiod are the only egress for PVC storage without a cloud identity
    const egressRules = policies.flatMap(p => p.spec.egress ?? []);
    expect(egressRules).toEqual([
      {
        to: [
          {
            namespaceSelector: {
              matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
            },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        to: [
          {
            namespaceSelector: {
              matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' },
            },
            podSelector: { matchLabels: { app: 'istiod' } },
          },
        ],
        ports: [{ port: 15012, protocol: 'TCP' }],
      },
    ]);
    expect(find('ResourceQuota').spec.hard).toMatchObject({
      'requests.nvidia.com/gpu': '4',
      'requests.cpu': '16',
      'requests.memory': '64Gi',
      'services.loadbalancers': '0',
    });
    expect(find('LimitRange').spec.limits[0]).toMatchObject({
      type: 'Container',
      default: { cpu: '1', memory: '2Gi' },
    });

    const pod = find('Deployment').spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe(project.serviceAccount);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.tolerations).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
    const c = pod.containers[0];
    expect(c.image).toBe('tensorflow/serving:2.18.0');
    expect(c.resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(c.ports.map((p: any) => p.containerPort)).toEqual([8500, 8501]);
    expect(c.readinessProbe.httpGet.path).toBe(
      '/v1/models/fraud-detector/metadata',
    );
    expect(c.livenessProbe.httpGet.path).toBe('/v1/models/fraud-detector');
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(c.args).toContain(
      '--model_config_file=/etc/tfserving/models.config',
    );
    expect(c.args).toContain(
      '--monitoring_config_file=/etc/tfserving/monitoring.config',
    );
    expect(c.args.some((a: string) => a.startsWith('--enable_batching'))).toBe(
      false,
    );
    expect(find('ConfigMap').data['monitoring.config']).toBe(
      'prometheus_config {\n  enable: true\n  path: "/monitoring/prometheus/metrics"\n}\n',
    );
    expect(find('ConfigMap').data['models.config']).toContain(
      'base_path: "/models/fraud-detector"',
    );
    expect(pod.volumes).toContainEqual({
      name: 'models',
      persistentVolumeClaim: { claimName: 'models', readOnly: true },
    });
    expect(find('PodDisruptionBudget')).toBeUndefined();
    expect(built.endpoints).toEqual({
      rest: 'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501/v1/models/fraud-detector',
      grpc: 'fraud-detector.ml-fraud-detector.svc.cluster.local:8500',
      gateway:
        'https://models.example.com/fraud-detector/v1/models/fraud-detector',
    });
  });

  it('uses the -gpu image, GPU limits, tolerations and a PDB for a GPU endpoint with replicas', () => {
    const { find, spec } = build({
      environment: 'production',
      replicas: 2,
      gpus: 1,
      cpu: '4',
      memory: '16Gi',
      versionPolicy: 'specific',
      versions: [4, 3],
      versionLabels: { stable: 3, canary: 4 },
      batching: { enabled: true, maxBatchSize: 64 },
    });
    const pod = find('Deployment').spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe('tensorflow/serving:2.18.0-gpu');
    expect(c.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(pod.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(find('Deployment').spec.replicas).toBe(2);
    expect(find('Deployment').spec.strategy.rollingUpdate).toEqual({
      maxSurge: 1,
      maxUnavailable: 0,
    });
    expect(find('PodDisruptionBudget').spec).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: {
          'app.kubernetes.io/instance': 'fraud-detector',
          'app.kubernetes.io/name': 'tensorflow-serving',
        },
      },
    });
    expect(c.args).toContain(
      '--batching_parameters_file=/etc/tfserving/batching.config',
    );
    expect(find('ConfigMap').data['batching.config']).toBe(
      'max_batch_size {\n  value: 64\n}\nbatch_timeout_micros {\n  value: 2000\n}\nmax_enqueued_batches {\n  value: 100\n}\nnum_batch_threads {\n  value: 4\n}\n',
    );
    expect(modelConfigText(project, spec)).toBe(
      [
        'model_config_list {',
        '  config {',
        '    name: "fraud-detector"',
        '    base_path: "/models/fraud-detector"',
        '    model_platform: "tensorflow"',
        '    model_version_policy {',
        '      specific {',
        '        versions: 3',
        '        versions: 4',
        '      }',
        '    }',
        '    version_labels {',
        '      key: "canary"',
        '      value: 4',
        '    }',
        '    version_labels {',
        '      key: "stable"',
        '      value: 3',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('keeps the rollout inside the GPU quota (no surge pod when the quota is full)', () => {
    const { find } = build({ replicas: 4, gpus: 1, cpu: '2', memory: '8Gi' });
    expect(find('Deployment').spec.strategy.rollingUpdate).toEqual({
      maxSurge: 0,
      maxUnavailable: 1,
    });
  });

  it('uses gs:// URIs directly and stays under the storage base', () => {
    const cfg = config({ modelStorageBaseUri: 'gs://acme-models/prod' });
    const { find } = build(
      { storageUri: 'gs://acme-models/prod/fraud/v2' },
      cfg,
    );
    expect(find('ConfigMap').data['models.config']).toContain(
      'base_path: "gs://acme-models/prod/fraud/v2"',
    );
    expect(
      find('Deployment').spec.template.spec.volumes.map((v: any) => v.name),
    ).toEqual(['config', 'tmp']);
    expect(() => build({ storageUri: 'gs://other-bucket/x' }, cfg)).toThrow(
      /outside the platform's model storage/,
    );
    expect(() =>
      build({ storageUri: 'gs://acme-models/prod/../secret' }, cfg),
    ).toThrow(/plain path segments/);
    expect(() =>
      build({ storageUri: 'https://evil.example.com/m' }, cfg),
    ).toThrow(/gs:\/\/, s3:\/\/ or pvc:\/\//);
  });
});

describe('KServe variant', () => {
  it('replaces Deployment and Service by a valid InferenceService with the same isolation', () => {
    const cfg = config({ runtime: 'kserve' });
    const { objects, find, built } = build(
      { replicas: 2, gpus: 1, cpu: '4', memory: '16Gi' },
      cfg,
    );
    expect(find('Deployment')).toBeUndefined();
    expect(find('Service')).toBeUndefined();
    expect(find('ConfigMap')).toBeUndefined();
    const isvc = find('InferenceService');
    expect(isvc.apiVersion).toBe('serving.kserve.io/v1beta1');
    expect(isvc.spec.predictor).toMatchObject({
      serviceAccountName: 'fraud-detector-serving',
      automountServiceAccountToken: false,
      minReplicas: 2,
      maxReplicas: 2,
      tolerations: [
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      ],
      model: {
        modelFormat: { name: 'tensorflow' },
        storageUri: 'pvc://models/fraud-detector',
        runtimeVersion: '2.18.0-gpu',
        resources: { limits: { 'nvidia.com/gpu': '1' } },
      },
    });
    expect(find('PodDisruptionBudget').spec.selector.matchLabels).toEqual({
      'serving.kserve.io/inferenceservice': 'fraud-detector',
    });
    expect(
      find('NetworkPolicy', 'allow-from-gateway').spec.podSelector.matchLabels,
    ).toEqual({
      'serving.kserve.io/inferenceservice': 'fraud-detector',
    });
    expect(find('NetworkPolicy', 'default-deny-all')).toBeDefined();
    expect(objects.filter(o => o.kind === 'ResourceQuota')).toHaveLength(1);
    expect(built.endpoints.rest).toBe(
      'http://fraud-detector-predictor.ml-fraud-detector.svc.cluster.local/v1/models/fraud-detector',
    );
    expect(built.endpoints.grpc).toBeUndefined();
  });

  it('its schema check rejects a GPU mismatch, unknown fields and a bad format', () => {
    const cfg = config({ runtime: 'kserve' });
    const isvc = build({ gpus: 1 }, cfg).find(
      'InferenceService',
    ) as InferenceService;
    const clone = () => JSON.parse(JSON.stringify(isvc)) as InferenceService;
    const noGpuTag = clone();
    noGpuTag.spec.predictor.model.runtimeVersion = '2.18.0';
    expect(() => validateInferenceService(noGpuTag)).toThrow(
      /not GPU enabled but GPU resources are requested/,
    );
    const extra = clone() as any;
    extra.spec.predictor.model.image = 'evil';
    expect(() => validateInferenceService(extra)).toThrow(
      /spec.predictor.model.image/,
    );
    const format = clone() as any;
    format.spec.predictor.model.modelFormat.name = 'onnx';
    expect(() => validateInferenceService(format)).toThrow(
      /must be tensorflow/,
    );
    const badQty = clone() as any;
    badQty.spec.predictor.model.resources.limits.cpu = 'lots';
    expect(() => validateInferenceService(badQty)).toThrow(/quantity/);
  });
});

describe('ceilings and input errors', () => {
  it('refuses more GPUs than the platform allows, naming the field and the ceiling', () => {
    expect(() => build({ gpus: 2 })).toThrow(
      /gpus is 2, above the platform's ceiling of 1/,
    );
    expect(() => build({ replicas: 9 })).toThrow(
      /replicas is 9, above the platform's ceiling of 4/,
    );
    expect(() => build({ cpu: '12' })).toThrow(
      /cpu 12 is above the platform's per-replica ceiling of 8/,
    );
    expect(() => build({ memory: 'lots' })).toThrow(
      /memory "lots" is not a Kubernetes quantity/,
    );
    const tight = config({
      quota: { gpus: 2 },
      limits: { maxGpusPerReplica: 1 },
      sizes: { large: { replicas: 2, gpus: 1 } },
    });
    expect(() => build({ replicas: 3, gpus: 1 }, tight)).toThrow(
      /3 replicas x 1 GPU\(s\) = 3 GPUs, above the project's GPU quota of 2/,
    );
    expect(() => build({ environment: 'moon' })).toThrow(
      /environment "moon" is not offered; choose one of: development, staging, production/,
    );
    expect(() => build({ versionPolicy: 'specific' })).toThrow(
      /versions is required/,
    );
    expect(() =>
      build({
        versionPolicy: 'specific',
        versions: [1],
        versionLabels: { stable: 2 },
      }),
    ).toThrow(/not in versions \[1\]/);
    expect(() => build({ versionLabels: { 'bad-label': 1 } })).toThrow(
      /only letters, digits and "_"/,
    );
  });

  it('applies size presets, and refuses a preset together with explicit values, naming them', () => {
    expect(build({ size: 'large' }).spec).toMatchObject({
      replicas: 2,
      gpus: 1,
      cpu: '4',
      memory: '16Gi',
    });
    expect(build({ replicas: 2, gpus: 0 }).spec).toMatchObject({
      replicas: 2,
      gpus: 0,
    });
    expect(() => build({ size: 'small', replicas: 4, gpus: 1 })).toThrow(
      /size "small" is a preset .* cannot be combined with replicas, gpus; send either size or explicit replicas, gpus, not both/,
    );
    expect(() => build({ size: 'large', memory: '2Gi' })).toThrow(
      /cannot be combined with memory/,
    );
  });
});

describe('owner label encoding', () => {
  it('is label-safe and keeps long refs unique', () => {
    expect(ownerLabelValue('group:default/ml-platform')).toBe(
      'group.default.ml-platform',
    );
    const long = `group:default/${'a'.repeat(80)}`;
    const v = ownerLabelValue(long);
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
    expect(ownerLabelValue(`${long}b`)).not.toBe(v);
  });
});

describe('serving config', () => {
  it('works with no config at all', () => {
    const cfg = readServingConfig(new ConfigReader({}));
    expect(cfg).toMatchObject({
      runtime: 'tfserving',
      image: 'tensorflow/serving',
      gpuResourceName: 'nvidia.com/gpu',
    });
    const spec = resolveServingSpec({}, project, cfg);
    expect(() => buildServingManifests(project, spec, cfg)).not.toThrow();
  });

  it('fails at start-up naming the offending key', () => {
    const read = (serving: object) => () =>
      readServingConfig(new ConfigReader({ tensorflow: { serving } }));
    expect(read({ runtime: 'seldon' })).toThrow(/tensorflow\.serving\.runtime/);
    expect(read({ quota: { cpu: 'many' } })).toThrow(
      /tensorflow\.serving\.quota\.cpu/,
    );
    expect(read({ limits: { maxReplicas: 0 } })).toThrow(
      /tensorflow\.serving\.limits\.maxReplicas/,
    );
    expect(read({ imageTag: '2.18.0-gpu' })).toThrow(
      /tensorflow\.serving\.imageTag/,
    );
    expect(read({ modelStorageBaseUri: 'ftp://x' })).toThrow(
      /tensorflow\.serving\.modelStorageBaseUri/,
    );
    expect(read({ gateway: { namespace: 'Bad_NS' } })).toThrow(
      /tensorflow\.serving\.gateway\.namespace/,
    );
    expect(read({ sizes: { large: { gpus: 3 } } })).toThrow(
      /tensorflow\.serving\.sizes\.large\.gpus/,
    );
    expect(read({ gpuTolerations: [{ effect: 'Sometimes' }] })).toThrow(
      /tensorflow\.serving\.gpuTolerations\[0\]\.effect/,
    );
    expect(read({ limits: { maxReplicas: 'three' } })).toThrow(
      /tensorflow\.serving\.limits\.maxReplicas/,
    );
  });
});
