import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ACCESS_POLICY } from '../access/config';
import { computeGrants } from '../access/grants';
import {
  GATEWAY_DEFAULTS,
  buildGatewayManifests,
  projectAudience,
} from '../gateway';
import {
  simulateRequest,
  type SimulatedToken,
} from '../../test/support/gateway/simulate';
import { deriveProject } from '../shared/naming';
import {
  evaluateConnection,
  type Cluster,
  type NetEndpoint,
  type NetPod,
} from '../../test/support/networkPolicy';
import {
  buildVariant,
  variantProject,
  type Cloud,
  type Variant,
} from '../../test/support/servingVariants';
import { ISTIO_METRICS_PATH, ISTIO_METRICS_PORT } from './network';
import { METRICS_PATH, serverSelector } from './labels';

/**
 * The generated NetworkPolicies and AuthorizationPolicies read as a table of flows, per cloud and mesh
 * setting. `expected` is the intended policy written by hand; the evaluation must match it cell by cell,
 * and docs/serving.md must carry the evaluated table.
 */
type Runtime = 'tfserving' | 'kserve';
const CLOUDS: Cloud[] = ['none', 'gke', 'eks-irsa', 'eks-pod-identity'];
const STORAGE: Record<Cloud, Variant['storage']> = {
  none: 'pvc',
  gke: 'gs',
  'eks-irsa': 's3',
  'eks-pod-identity': 's3',
};
const other = deriveProject(
  { name: 'churn-model', owner: 'group:default/risk' },
  { namespacePrefix: 'ml-' },
);

interface Ctx {
  cloud: Cloud;
  mesh: boolean;
  runtime: Runtime;
}
interface Flow {
  id: string;
  from: string;
  to: string;
  port: (c: Ctx) => number | undefined;
  protocol?: 'TCP' | 'UDP';
  /** HTTP request on an app port: the sidecar's AuthorizationPolicies apply when the mesh is on. */
  http?: { method: string; path: string; token?: 'granted' | 'ungranted' };
  expected: (c: Ctx) => boolean;
}

const rest = (c: Ctx) => (c.runtime === 'kserve' ? 8080 : 8501);
const base = `/v1/models/${variantProject.name}`;

const FLOWS: Flow[] = [
  {
    id: 'dns-udp',
    from: 'model server',
    to: 'kube-dns (kube-system)',
    port: () => 53,
    protocol: 'UDP',
    expected: () => true,
  },
  {
    id: 'dns-tcp',
    from: 'model server',
    to: 'kube-dns (kube-system)',
    port: () => 53,
    expected: () => true,
  },
  {
    id: 'nodelocal-dns',
    from: 'model server',
    to: 'NodeLocal DNSCache 169.254.20.10',
    port: () => 53,
    protocol: 'UDP',
    expected: c => c.cloud === 'gke',
  },
  {
    id: 'istiod-xds',
    from: 'model server',
    to: 'istiod (istio-system)',
    port: () => 15012,
    expected: c => c.mesh,
  },
  {
    id: 'istiod-plaintext',
    from: 'model server',
    to: 'istiod (istio-system)',
    port: () => 15010,
    expected: () => false,
  },
  {
    id: 'storage',
    from: 'model server',
    to: 'model storage, public IP (GCS / S3)',
    port: () => 443,
    expected: c => c.cloud !== 'none',
  },
  {
    id: 'gke-metadata',
    from: 'model server',
    to: 'metadata 169.254.169.254',
    port: () => 80,
    expected: c => c.cloud === 'gke',
  },
  {
    id: 'gke-metadata-988',
    from: 'model server',
    to: 'GKE metadata 169.254.169.252',
    port: () => 988,
    expected: c => c.cloud === 'gke',
  },
  {
    id: 'pod-identity',
    from: 'model server',
    to: 'EKS Pod Identity agent 169.254.170.23',
    port: () => 80,
    expected: c => c.cloud === 'eks-pod-identity',
  },
  // GCS, S3 and STS publish no stable CIDRs: the default storage flow is public IPv4 on 443 (narrow it in config).
  {
    id: 'sts',
    from: 'model server',
    to: 'AWS STS or any other public IP',
    port: () => 443,
    expected: c => c.cloud !== 'none',
  },
  {
    id: 'vpc-private',
    from: 'model server',
    to: 'private address 10.0.5.5',
    port: () => 443,
    expected: () => false,
  },
  {
    id: 'apiserver',
    from: 'model server',
    to: 'kube-apiserver 10.96.0.1',
    port: () => 443,
    expected: () => false,
  },
  {
    id: 'internet-80',
    from: 'model server',
    to: 'public IP',
    port: () => 80,
    expected: () => false,
  },
  {
    id: 'other-project-egress',
    from: 'model server',
    to: 'other project model server',
    port: rest,
    expected: () => false,
  },
  {
    id: 'gw-predict',
    from: 'gateway',
    to: 'model server',
    port: rest,
    http: { method: 'POST', path: `${base}:predict`, token: 'granted' },
    expected: () => true,
  },
  {
    id: 'gw-grpc',
    from: 'gateway',
    to: 'model server',
    port: c => (c.runtime === 'kserve' ? undefined : 8500),
    expected: () => true,
  },
  {
    id: 'gw-predict-ungranted',
    from: 'gateway',
    to: 'model server',
    port: rest,
    http: { method: 'POST', path: `${base}:predict`, token: 'ungranted' },
    expected: c => !c.mesh,
  },
  {
    id: 'gw-anonymous',
    from: 'gateway',
    to: 'model server',
    port: rest,
    http: { method: 'POST', path: `${base}:predict` },
    expected: c => !c.mesh,
  },
  {
    id: 'gw-metrics',
    from: 'gateway',
    to: 'model server',
    port: rest,
    http: { method: 'GET', path: METRICS_PATH },
    expected: c => !c.mesh,
  },
  {
    id: 'scrape-merged',
    from: 'metrics scraper',
    to: 'model server',
    port: () => ISTIO_METRICS_PORT,
    http: { method: 'GET', path: ISTIO_METRICS_PATH },
    expected: c => c.mesh,
  },
  {
    id: 'scrape-app',
    from: 'metrics scraper',
    to: 'model server',
    port: rest,
    http: { method: 'GET', path: METRICS_PATH },
    expected: c => !c.mesh,
  },
  {
    id: 'scrape-predict',
    from: 'metrics scraper',
    to: 'model server',
    port: rest,
    http: { method: 'POST', path: `${base}:predict` },
    expected: c => !c.mesh,
  },
  {
    id: 'other-gateway-pod',
    from: 'other pod in the gateway namespace',
    to: 'model server',
    port: rest,
    expected: () => false,
  },
  {
    id: 'other-project-ingress',
    from: 'other project model server',
    to: 'model server',
    port: rest,
    expected: () => false,
  },
  {
    id: 'other-ns-scraper-labels',
    from: 'pod with the scraper labels in another namespace',
    to: 'model server',
    port: () => ISTIO_METRICS_PORT,
    expected: () => false,
  },
];

const IPS: Record<string, string> = {
  'NodeLocal DNSCache 169.254.20.10': '169.254.20.10',
  'model storage, public IP (GCS / S3)': '142.250.74.123',
  'metadata 169.254.169.254': '169.254.169.254',
  'GKE metadata 169.254.169.252': '169.254.169.252',
  'EKS Pod Identity agent 169.254.170.23': '169.254.170.23',
  'AWS STS or any other public IP': '52.94.236.248',
  'private address 10.0.5.5': '10.0.5.5',
  'kube-apiserver 10.96.0.1': '10.96.0.1',
  'public IP': '93.184.216.34',
};

function world(c: Ctx) {
  const v: Variant = {
    cloud: c.cloud,
    runtime: c.runtime,
    mesh: c.mesh,
    gpus: 0,
    storage: STORAGE[c.cloud],
    batching: false,
    replicas: 1,
  };
  const { manifests, spec, config } = buildVariant(v);
  const otherBuilt = buildVariant(v);
  void otherBuilt;
  const objects = manifests.map(m => JSON.parse(JSON.stringify(m)));
  const podLabels =
    objects.find(o => o.kind === 'Deployment')?.spec.template.metadata.labels ??
    serverSelector(variantProject, spec);
  const pods: Record<string, NetPod> = {
    'model server': {
      kind: 'pod',
      namespace: variantProject.namespace,
      labels: podLabels,
      ip: '10.8.0.10',
    },
    'other project model server': {
      kind: 'pod',
      namespace: other.namespace,
      labels: serverSelector(other, spec),
      ip: '10.8.3.7',
    },
    gateway: {
      kind: 'pod',
      namespace: config.gateway.namespace,
      labels: config.gateway.podLabels,
      ip: '10.8.1.5',
    },
    'other pod in the gateway namespace': {
      kind: 'pod',
      namespace: config.gateway.namespace,
      labels: { app: 'something-else' },
      ip: '10.8.1.9',
    },
    'metrics scraper': {
      kind: 'pod',
      namespace: config.metricsScraper!.namespace,
      labels: config.metricsScraper!.podLabels,
      ip: '10.8.2.5',
    },
    'pod with the scraper labels in another namespace': {
      kind: 'pod',
      namespace: 'ml-churn-model',
      labels: config.metricsScraper!.podLabels,
      ip: '10.8.3.9',
    },
    'kube-dns (kube-system)': {
      kind: 'pod',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns' },
      ip: '10.8.4.2',
    },
    'istiod (istio-system)': {
      kind: 'pod',
      namespace: 'istio-system',
      labels: { app: 'istiod', istio: 'pilot' },
      ip: '10.8.5.2',
    },
  };
  // The other project has the same generated policies in its own namespace.
  const otherObjects = JSON.parse(JSON.stringify(manifests)).map((o: any) =>
    JSON.parse(
      JSON.stringify(o)
        .split(variantProject.namespace)
        .join(other.namespace)
        .split(variantProject.name)
        .join(other.name),
    ),
  );
  const cluster: Cluster = {
    namespaces: {},
    policies: [...objects, ...otherObjects].filter(
      o => o.kind === 'NetworkPolicy',
    ),
  };
  const grants = computeGrants(DEFAULT_ACCESS_POLICY, variantProject, {
    'group:default/risk': ['predict'],
  });
  const gateway = buildGatewayManifests(
    variantProject,
    grants,
    GATEWAY_DEFAULTS,
    { runtime: c.runtime },
  );
  const endpoint = (name: string): NetEndpoint =>
    pods[name] ?? { kind: 'ip', ip: IPS[name] };
  return { cluster, gateway, endpoint, pods };
}

const audience = projectAudience(variantProject, GATEWAY_DEFAULTS);
const tokens: Record<string, SimulatedToken> = {
  granted: {
    iss: GATEWAY_DEFAULTS.issuer,
    sub: 'user-42',
    aud: [audience],
    claims: { groups: ['risk'] },
  },
  ungranted: {
    iss: GATEWAY_DEFAULTS.issuer,
    sub: 'user-43',
    aud: [audience],
    claims: { groups: ['marketing'] },
  },
};
/** Ports istio-iptables leaves out of the inbound redirect (`-d 15090,15021,15020`): no AuthorizationPolicy applies there. */
const NOT_INTERCEPTED = [15020, 15021, 15090];

function evaluate(
  c: Ctx,
  flow: Flow,
  w: ReturnType<typeof world>,
): { allowed: boolean; reason: string } | undefined {
  const port = flow.port(c);
  if (port === undefined) return undefined;
  const l4 = evaluateConnection(
    w.cluster,
    w.endpoint(flow.from),
    w.endpoint(flow.to),
    port,
    flow.protocol ?? 'TCP',
  );
  if (
    !l4.allowed ||
    !flow.http ||
    !c.mesh ||
    NOT_INTERCEPTED.includes(port) ||
    flow.to !== 'model server'
  )
    return l4;
  const to = w.pods[flow.to];
  const decision = simulateRequest(w.gateway, {
    namespace: to.namespace,
    workloadLabels: to.labels,
    method: flow.http.method,
    path: flow.http.path,
    ...(flow.http.token ? { token: tokens[flow.http.token] } : {}),
  });
  return decision.allowed
    ? { allowed: true, reason: 'allowed' }
    : { allowed: false, reason: `${decision.status} ${decision.reason}` };
}

const CONTEXTS: Ctx[] = CLOUDS.flatMap(cloud =>
  [true, false].map(mesh => ({ cloud, mesh, runtime: 'tfserving' as Runtime })),
);

/** How a flow's request authenticates, as the docs table shows it. */
function tokenNote(flow: Flow): string {
  if (flow.http?.token) return ` (token, ${flow.http.token})`;
  return flow.from === 'gateway' ? ' (no token)' : '';
}

function table(runtime: Runtime): string {
  const ctxs = CONTEXTS.map(c => ({ ...c, runtime }));
  const worlds = ctxs.map(c => world(c));
  const header = [
    'Source',
    'Destination',
    'Port / request',
    ...ctxs.map(
      c =>
        `${c.cloud === 'none' ? 'no cloud' : c.cloud}, mesh ${c.mesh ? 'on' : 'off'}`,
    ),
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
  ];
  for (const flow of FLOWS) {
    const port = flow.port(ctxs[0]);
    if (port === undefined) continue;
    const request = flow.http
      ? ` ${flow.http.method} \`${flow.http.path.replace(variantProject.name, '<m>')}\`${tokenNote(flow)}`
      : '';
    const cells = ctxs.map((c, i) =>
      evaluate(c, flow, worlds[i])!.allowed ? 'allow' : 'deny',
    );
    lines.push(
      `| ${flow.from} | ${flow.to} | ${flow.protocol ?? 'TCP'} ${port}${request} | ${cells.join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

describe.each(['tfserving', 'kserve'] as const)(
  'network flows of a %s endpoint',
  runtime => {
    describe.each(CLOUDS)('%s', cloud => {
      it.each([true, false])(
        'mesh on: %s — every flow allowed or denied as intended',
        mesh => {
          const c: Ctx = { cloud, mesh, runtime };
          const w = world(c);
          for (const flow of FLOWS) {
            const verdict = evaluate(c, flow, w);
            if (!verdict) continue;
            expect({
              flow: flow.id,
              allowed: verdict.allowed,
              reason: verdict.reason,
            }).toEqual({
              flow: flow.id,
              allowed: flow.expected(c),
              reason: expect.any(String),
            });
          }
        },
      );
    });
  },
);

describe('flows come from tensorflow.serving.network', () => {
  it('narrowed storage CIDRs (GKE Private Google Access VIPs) allow the VIP and no other public address', () => {
    const v: Variant = {
      cloud: 'gke',
      runtime: 'tfserving',
      mesh: true,
      gpus: 0,
      storage: 'gs',
      batching: false,
      replicas: 1,
    };
    const { manifests } = buildVariant(v, {
      network: {
        mesh: { enabled: true },
        modelStorage: { cidrs: ['199.36.153.8/30'], except: [], ports: [443] },
      },
    });
    const cluster: Cluster = {
      namespaces: {},
      policies: manifests
        .filter(m => m.kind === 'NetworkPolicy')
        .map(m => JSON.parse(JSON.stringify(m))),
    };
    const model = {
      kind: 'pod' as const,
      namespace: variantProject.namespace,
      labels: serverSelector(variantProject, { runtime: 'tfserving' } as never),
      ip: '10.8.0.10',
    };
    expect(
      evaluateConnection(
        cluster,
        model,
        { kind: 'ip', ip: '199.36.153.9' },
        443,
      ).allowed,
    ).toBe(true);
    expect(
      evaluateConnection(
        cluster,
        model,
        { kind: 'ip', ip: '142.250.74.123' },
        443,
      ).allowed,
    ).toBe(false);
  });

  it('refuses a bad CIDR or port at start-up naming the key', () => {
    const v: Variant = {
      cloud: 'gke',
      runtime: 'tfserving',
      mesh: true,
      gpus: 0,
      storage: 'gs',
      batching: false,
      replicas: 1,
    };
    expect(() =>
      buildVariant(v, {
        network: { modelStorage: { cidrs: ['199.36.153.8/33'] } },
      }),
    ).toThrow(
      /tensorflow\.serving\.network\.modelStorage\.cidrs\[0\]: "199\.36\.153\.8\/33" is not a CIDR/,
    );
    expect(() =>
      buildVariant(v, {
        network: {
          workloadIdentity: [{ cidr: '169.254.169.254/32', port: 0 }],
        },
      }),
    ).toThrow(/network\.workloadIdentity\[0\]\.port/);
  });
});

describe('the evaluators are not pushovers', () => {
  it('a NetworkPolicy allowing all egress opens the private address, and without default-deny everything is open', () => {
    const c: Ctx = { cloud: 'gke', mesh: true, runtime: 'tfserving' };
    const w = world(c);
    const to = w.endpoint('private address 10.0.5.5');
    const from = w.endpoint('model server');
    expect(evaluateConnection(w.cluster, from, to, 443).allowed).toBe(false);
    const open = {
      ...w.cluster,
      policies: [
        ...w.cluster.policies,
        {
          metadata: { name: 'all', namespace: variantProject.namespace },
          spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] },
        },
      ],
    };
    expect(evaluateConnection(open, from, to, 443).allowed).toBe(true);
    expect(
      evaluateConnection({ ...w.cluster, policies: [] }, from, to, 443).allowed,
    ).toBe(true);
  });
});

describe('docs/serving.md', () => {
  // eslint-disable-next-line jest/expect-expect -- fails with an Error whose message is the table to paste; expect's diff would prefix every line
  it('carries the evaluated flow tables (regenerate from this test when they change)', () => {
    const doc = fs.readFileSync(
      path.resolve(__dirname, '../../docs/serving.md'),
      'utf8',
    );
    const missing = (['tfserving', 'kserve'] as const)
      .map(r => ({ r, t: table(r) }))
      .filter(x => !doc.includes(x.t));
    if (missing.length) {
      throw new Error(
        `docs/serving.md lacks the current flow table(s); paste:\n\n${missing.map(x => `<!-- ${x.r} -->\n${x.t}`).join('\n\n')}\n\nEND`,
      );
    }
  });
});
