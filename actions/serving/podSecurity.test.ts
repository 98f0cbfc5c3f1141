import { checkRestricted } from '../../test/support/podSecurity';
import {
  allVariants,
  buildVariant,
  variantName,
  type Variant,
} from '../../test/support/servingVariants';
import {
  STORAGE_INITIALIZER_SECURITY_CONTEXT,
  type InferenceService,
} from './kserve';
import { POD_SECURITY_MODES } from './podsecurity';

/**
 * The container KServe's `kserve-tensorflow-serving` ClusterServingRuntime contributes
 * (kserve/kserve@aaac4e294 config/runtimes/kserve-tensorflow-serving.yaml); the predictor's model
 * fields are merged over it.
 */
const KSERVE_RUNTIME_CONTAINER = {
  name: 'kserve-container',
  securityContext: {
    runAsUser: 1000,
    allowPrivilegeEscalation: false,
    privileged: false,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  },
};
/** kserve/kserve@aaac4e294 config/storagecontainers/default.yaml: no securityContext. */
const STOCK_STORAGE_INITIALIZER = {
  name: 'storage-initializer',
  image: 'kserve/storage-initializer:latest',
};

/** The pod spec KServe builds from our InferenceService (predictor PodSpec + runtime container + injected init container). */
function kservePodSpec(
  isvc: InferenceService,
  storageInitializer: Record<string, unknown>,
) {
  const {
    model,
    minReplicas: _min,
    maxReplicas: _max,
    batcher: _b,
    ...podFields
  } = isvc.spec.predictor;
  const needsInit = /^(gs|s3):\/\//.test(model.storageUri);
  return {
    ...podFields,
    ...(needsInit ? { initContainers: [storageInitializer] } : {}),
    containers: [
      {
        ...KSERVE_RUNTIME_CONTAINER,
        resources: model.resources,
        securityContext: {
          ...KSERVE_RUNTIME_CONTAINER.securityContext,
          ...model.securityContext,
        },
      },
    ],
  };
}

const patchedInit = {
  ...STOCK_STORAGE_INITIALIZER,
  securityContext: STORAGE_INITIALIZER_SECURITY_CONTEXT,
};

function podSpecs(v: Variant): Array<{ where: string; spec: any }> {
  const { manifests } = buildVariant(v);
  const out: Array<{ where: string; spec: any }> = [];
  for (const m of manifests) {
    const json = JSON.parse(JSON.stringify(m));
    if (json.kind === 'Deployment')
      out.push({
        where: `Deployment ${json.metadata.name}`,
        spec: json.spec.template.spec,
      });
    if (json.kind === 'InferenceService')
      out.push({
        where: `InferenceService ${json.metadata.name}`,
        spec: kservePodSpec(json, patchedInit),
      });
  }
  return out;
}

describe('every generated pod spec meets the restricted Pod Security Standard', () => {
  const variants = allVariants();
  it.each(variants.map(v => [variantName(v), v] as const))('%s', (_name, v) => {
    const specs = podSpecs(v);
    expect(specs).toHaveLength(1);
    for (const { where, spec } of specs)
      expect({ where, violations: checkRestricted(spec) }).toEqual({
        where,
        violations: [],
      });
  });

  it('labels every generated namespace enforce/audit/warn restricted with a version', () => {
    for (const v of variants) {
      const { manifests, config } = buildVariant(v);
      const namespaces = manifests.filter(m => m.kind === 'Namespace');
      expect(namespaces).toHaveLength(1);
      for (const ns of namespaces) {
        for (const mode of POD_SECURITY_MODES) {
          expect(
            ns.metadata!.labels![`pod-security.kubernetes.io/${mode}`],
          ).toBe('restricted');
          expect(
            ns.metadata!.labels![`pod-security.kubernetes.io/${mode}-version`],
          ).toBe(config.podSecurityVersion);
        }
      }
    }
  });

  it("needs the platform to patch KServe's stock storage-initializer (documented), which alone violates restricted", () => {
    const v = variants.find(x => x.runtime === 'kserve' && x.storage === 'gs')!;
    const isvc = JSON.parse(
      JSON.stringify(
        buildVariant(v).manifests.find(m => m.kind === 'InferenceService'),
      ),
    );
    const checks = checkRestricted(
      kservePodSpec(isvc, STOCK_STORAGE_INITIALIZER),
    ).map(x => `${x.check} ${x.path}`);
    expect(checks).toEqual([
      'allowPrivilegeEscalation spec.initContainers[0].securityContext.allowPrivilegeEscalation',
      'capabilities_restricted spec.initContainers[0].securityContext.capabilities.drop',
    ]);
  });
});

describe('the restricted checker rejects what the standard forbids', () => {
  const base = () => ({
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: 'c',
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        },
      },
    ],
  });
  const checksOf = (spec: any) =>
    [...new Set(checkRestricted(spec).map(v => v.check))].sort();

  it('accepts a minimal restricted pod', () =>
    expect(checksOf(base())).toEqual([]));
  it.each([
    ['hostNetwork', (s: any) => (s.hostNetwork = true), 'hostNamespaces'],
    ['hostPID', (s: any) => (s.hostPID = true), 'hostNamespaces'],
    ['hostIPC', (s: any) => (s.hostIPC = true), 'hostNamespaces'],
    [
      'hostPath volume',
      (s: any) => (s.volumes = [{ name: 'h', hostPath: { path: '/' } }]),
      'hostPathVolumes,restrictedVolumes',
    ],
    [
      'nfs volume',
      (s: any) =>
        (s.volumes = [{ name: 'n', nfs: { server: 'x', path: '/' } }]),
      'restrictedVolumes',
    ],
    [
      'hostPort',
      (s: any) =>
        (s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]),
      'hostPorts',
    ],
    [
      'privileged',
      (s: any) => (s.containers[0].securityContext.privileged = true),
      'privileged',
    ],
    [
      'escalation unset',
      (s: any) =>
        delete s.containers[0].securityContext.allowPrivilegeEscalation,
      'allowPrivilegeEscalation',
    ],
    [
      'runAsNonRoot unset',
      (s: any) => delete s.securityContext.runAsNonRoot,
      'runAsNonRoot',
    ],
    [
      'root user',
      (s: any) => (s.containers[0].securityContext.runAsUser = 0),
      'runAsUser',
    ],
    [
      'no seccomp',
      (s: any) => delete s.securityContext.seccompProfile,
      'seccompProfile_restricted',
    ],
    [
      'unconfined seccomp',
      (s: any) =>
        (s.containers[0].securityContext.seccompProfile = {
          type: 'Unconfined',
        }),
      'seccompProfile_baseline,seccompProfile_restricted',
    ],
    [
      'no drop ALL',
      (s: any) =>
        (s.containers[0].securityContext.capabilities = { drop: ['NET_RAW'] }),
      'capabilities_restricted',
    ],
    [
      'adds NET_ADMIN',
      (s: any) =>
        (s.containers[0].securityContext.capabilities.add = ['NET_ADMIN']),
      'capabilities_baseline,capabilities_restricted',
    ],
    [
      'init container (istio-init without CNI)',
      (s: any) =>
        (s.initContainers = [
          {
            name: 'istio-init',
            securityContext: {
              runAsUser: 0,
              runAsNonRoot: false,
              capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
            },
          },
        ]),
      'allowPrivilegeEscalation,capabilities_baseline,capabilities_restricted,runAsNonRoot,runAsUser',
    ],
    [
      'unsafe sysctl',
      (s: any) =>
        (s.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]),
      'sysctls',
    ],
    [
      'probe host',
      (s: any) =>
        (s.containers[0].readinessProbe = {
          httpGet: { host: '10.0.0.1', port: 80 },
        }),
      'hostProbesAndHostLifecycle',
    ],
  ])('%s', (_name, mutate, expected) => {
    const spec = base();
    mutate(spec);
    expect(checksOf(spec).join(',')).toBe(expected);
  });
});
