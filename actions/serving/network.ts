import { isIP } from 'node:net';
import type { Config } from '@backstage/config';
import type { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { kubernetesModels } from '../shared/kubernetesModels';
import { DNS_LABEL, type ModelProject } from '../shared/naming';

/**
 * The network flows a model server needs, each from `tensorflow.serving.network` with a default per
 * cloud. Everything else stays denied by the namespace's default-deny policy. The flow table
 * (docs/serving.md) is evaluated from the generated objects by actions/serving/flows.test.ts.
 */

export type Cloud = 'gke' | 'eks' | 'other';
export type WorkloadIdentityKind =
  'none' | 'gke' | 'eks-irsa' | 'eks-pod-identity';

export interface Peer {
  namespace: string;
  podLabels: Record<string, string>;
}

/** A CIDR egress flow: destinations `cidrs` minus `except`, on TCP `ports`. */
export interface CidrEgress {
  cidrs: string[];
  except: string[];
  ports: number[];
}

export interface NetworkConfig {
  cloud: Cloud;
  mesh: { enabled: boolean; istiod: Peer; istiodPort: number };
  /** Extra DNS resolvers outside any pod selector (NodeLocal DNSCache link-local address). */
  nodeLocalDnsCidrs: string[];
  /** Egress to gs:// / s3:// model storage; empty cidrs = no flow (PVC storage). */
  modelStorage: CidrEgress;
  /** Node-local workload identity endpoints (GKE metadata server, EKS Pod Identity agent). */
  workloadIdentity: Array<{ cidr: string; port: number }>;
  /** Egress to AWS STS (IRSA: the SDK in the pod calls AssumeRoleWithWebIdentity). */
  sts: CidrEgress;
}

/** Private, link-local, shared (CGNAT) and loopback ranges: never reached by the public-endpoint defaults. */
export const NON_PUBLIC_IPV4 = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '127.0.0.0/8',
];
/** Public IPv4 on 443 minus non-public ranges: GCS, S3 and STS publish no stable CIDRs (docs/serving.md). */
const PUBLIC_HTTPS: CidrEgress = {
  cidrs: ['0.0.0.0/0'],
  except: NON_PUBLIC_IPV4,
  ports: [443],
};
const NONE: CidrEgress = { cidrs: [], except: [], ports: [] };

/** The metadata endpoints a workload identity provider's credentials come from. */
function workloadIdentityEndpoints(
  identity: WorkloadIdentityKind,
): Array<{ cidr: string; port: number }> {
  // GKE metadata server: 169.254.169.252:988, and 169.254.169.254:80 with Dataplane V2.
  if (identity === 'gke')
    return [
      { cidr: '169.254.169.254/32', port: 80 },
      { cidr: '169.254.169.252/32', port: 988 },
    ];
  if (identity === 'eks-pod-identity')
    return [{ cidr: '169.254.170.23/32', port: 80 }];
  return [];
}

/** Defaults per cloud and workload identity, documented in docs/configuration.md and docs/serving.md. */
export function networkDefaults(
  cloud: Cloud,
  identity: WorkloadIdentityKind,
  storageScheme: string,
): NetworkConfig {
  return {
    cloud,
    mesh: {
      enabled: true,
      istiod: { namespace: 'istio-system', podLabels: { app: 'istiod' } },
      istiodPort: 15012,
    },
    // GKE enables NodeLocal DNSCache by default (Autopilot always; Standard from 1.34.1-gke.3720000).
    nodeLocalDnsCidrs: cloud === 'gke' ? ['169.254.20.10/32'] : [],
    modelStorage:
      storageScheme === 'gs' || storageScheme === 's3'
        ? { ...PUBLIC_HTTPS }
        : { ...NONE },
    workloadIdentity: workloadIdentityEndpoints(identity),
    sts: identity === 'eks-irsa' ? { ...PUBLIC_HTTPS } : { ...NONE },
  };
}

export class NetworkConfigError extends Error {
  constructor(key: string, message: string) {
    super(
      `Invalid configuration at tensorflow.serving.network.${key}: ${message}`,
    );
    this.name = 'NetworkConfigError';
  }
}

function cidr(key: string, value: unknown): string {
  const m =
    typeof value === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(value) : null;
  const family = m ? isIP(m[1]) : 0;
  if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) {
    throw new NetworkConfigError(
      key,
      `${JSON.stringify(value)} is not a CIDR such as "199.36.153.8/30"`,
    );
  }
  return value as string;
}

function port(key: string, value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > 65535
  ) {
    throw new NetworkConfigError(
      key,
      `${JSON.stringify(value)} must be a port number 1-65535`,
    );
  }
  return value;
}

function cidrEgress(
  section: Config | undefined,
  key: string,
  fallback: CidrEgress,
): CidrEgress {
  const sub = section?.getOptionalConfig(key);
  if (!sub) return fallback;
  const cidrs = (sub.getOptionalStringArray('cidrs') ?? fallback.cidrs).map(
    (c, i) => cidr(`${key}.cidrs[${i}]`, c),
  );
  const except = (sub.getOptionalStringArray('except') ?? fallback.except).map(
    (c, i) => cidr(`${key}.except[${i}]`, c),
  );
  const ports = (
    (sub.getOptional('ports') as unknown[] | undefined) ??
    (fallback.ports.length ? fallback.ports : [443])
  ).map((p, i) => port(`${key}.ports[${i}]`, p));
  return { cidrs, except, ports };
}

function labelMap(
  section: Config | undefined,
  key: string,
  fallback: Record<string, string>,
): Record<string, string> {
  const raw = section?.getOptional(key);
  if (raw === undefined) return fallback;
  if (
    typeof raw !== 'object' ||
    raw === null ||
    Array.isArray(raw) ||
    Object.values(raw).some(v => typeof v !== 'string')
  ) {
    throw new NetworkConfigError(
      key,
      'must be a map of label keys to string values',
    );
  }
  return { ...(raw as Record<string, string>) };
}

/** The cloud a workload identity provider implies. */
function impliedCloud(provider: WorkloadIdentityKind): Cloud {
  if (provider === 'gke') return 'gke';
  if (provider.startsWith('eks')) return 'eks';
  return 'other';
}

/**
 * Reads `tensorflow.serving.network`. The cloud defaults to the one `tensorflow.identity.provider` names;
 * the workload identity endpoints follow the provider; storage egress follows the model storage scheme.
 */
export function readNetworkConfig(
  root: Config,
  storageBaseUri: string,
): NetworkConfig {
  const provider = (root.getOptionalString('tensorflow.identity.provider') ??
    'none') as WorkloadIdentityKind;
  const s = root.getOptionalConfig('tensorflow.serving.network');
  const cloud = (s?.getOptionalString('cloud') ??
    impliedCloud(provider)) as Cloud;
  if (!['gke', 'eks', 'other'].includes(cloud))
    throw new NetworkConfigError(
      'cloud',
      `"${cloud}" must be gke, eks or other`,
    );
  const d = networkDefaults(cloud, provider, storageBaseUri.split(':')[0]);

  const m = s?.getOptionalConfig('mesh');
  const istiodNamespace =
    m?.getOptionalString('istiodNamespace') ?? d.mesh.istiod.namespace;
  if (!DNS_LABEL.test(istiodNamespace))
    throw new NetworkConfigError(
      'mesh.istiodNamespace',
      `"${istiodNamespace}" must be a namespace name`,
    );
  const mesh = {
    enabled: m?.getOptionalBoolean('enabled') ?? d.mesh.enabled,
    istiod: {
      namespace: istiodNamespace,
      podLabels: labelMap(m, 'istiodPodLabels', d.mesh.istiod.podLabels),
    },
    istiodPort: m?.has('istiodPort')
      ? port('mesh.istiodPort', m.getNumber('istiodPort'))
      : d.mesh.istiodPort,
  };
  const nodeLocalDnsCidrs = (
    s?.getOptionalStringArray('nodeLocalDnsCidrs') ?? d.nodeLocalDnsCidrs
  ).map((c, i) => cidr(`nodeLocalDnsCidrs[${i}]`, c));
  const wi = s?.getOptionalConfigArray('workloadIdentity');
  const workloadIdentity = wi
    ? wi.map((e, i) => ({
        cidr: cidr(`workloadIdentity[${i}].cidr`, e.getString('cidr')),
        port: port(`workloadIdentity[${i}].port`, e.getNumber('port')),
      }))
    : d.workloadIdentity;
  return {
    cloud,
    mesh,
    nodeLocalDnsCidrs,
    modelStorage: cidrEgress(s, 'modelStorage', d.modelStorage),
    workloadIdentity,
    sts: cidrEgress(s, 'sts', d.sts),
  };
}

function peerRule(peer: Peer) {
  return {
    namespaceSelector: {
      matchLabels: { 'kubernetes.io/metadata.name': peer.namespace },
    },
    ...(Object.keys(peer.podLabels).length > 0
      ? { podSelector: { matchLabels: { ...peer.podLabels } } }
      : {}),
  };
}

function ipBlocks(flow: CidrEgress) {
  return flow.cidrs.map(c => ({
    ipBlock: {
      cidr: c,
      ...(flow.except.filter(
        e => isIP(e.split('/')[0]) === isIP(c.split('/')[0]),
      ).length
        ? {
            except: flow.except.filter(
              e => isIP(e.split('/')[0]) === isIP(c.split('/')[0]),
            ),
          }
        : {}),
    },
  }));
}

export interface NetworkPolicyInputs {
  project: ModelProject;
  labels: Record<string, string>;
  /** Pod labels of the model server. */
  selector: Record<string, string>;
  /** Ports the gateway calls (REST/gRPC). */
  servingPorts: number[];
  gateway: Peer;
  dns: Peer;
  metricsScraper?: Peer;
  /** Where the scraper reads metrics when no sidecar merges them (the REST port). */
  appMetricsPort: number;
  network: NetworkConfig;
}

/** Istio's merged Prometheus endpoint on the sidecar (pilot-agent), outside the inbound redirect. */
export const ISTIO_METRICS_PORT = 15020;
export const ISTIO_METRICS_PATH = '/stats/prometheus';

/** Default-deny plus one NetworkPolicy per allowed flow. */
export function buildNetworkPolicies(i: NetworkPolicyInputs): NetworkPolicy[] {
  const { NetworkPolicy } = kubernetesModels();
  const ns = i.project.namespace;
  const meta = (name: string) => ({
    name,
    namespace: ns,
    labels: { ...i.labels },
  });
  const tcp = (ports: number[]) =>
    ports.map(p => ({ protocol: 'TCP', port: p }));
  const egress = (
    name: string,
    podSelector: Record<string, string>,
    rules: object[],
  ) =>
    new NetworkPolicy({
      metadata: meta(name),
      spec: {
        podSelector: Object.keys(podSelector).length
          ? { matchLabels: podSelector }
          : {},
        policyTypes: ['Egress'],
        egress: rules as never,
      },
    });
  const n = i.network;
  const policies: NetworkPolicy[] = [
    new NetworkPolicy({
      metadata: meta('default-deny-all'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    }),
    new NetworkPolicy({
      metadata: meta('allow-from-gateway'),
      spec: {
        podSelector: { matchLabels: i.selector },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [peerRule(i.gateway)], ports: tcp(i.servingPorts) as never },
        ],
      },
    }),
    egress('allow-dns-egress', {}, [
      {
        to: [
          peerRule(i.dns),
          ...n.nodeLocalDnsCidrs.map(c => ({ ipBlock: { cidr: c } })),
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ]),
  ];
  if (n.mesh.enabled)
    policies.push(
      egress('allow-istiod-egress', {}, [
        { to: [peerRule(n.mesh.istiod)], ports: tcp([n.mesh.istiodPort]) },
      ]),
    );
  if (n.modelStorage.cidrs.length)
    policies.push(
      egress('allow-model-storage-egress', i.selector, [
        { to: ipBlocks(n.modelStorage), ports: tcp(n.modelStorage.ports) },
      ]),
    );
  if (n.workloadIdentity.length) {
    policies.push(
      egress(
        'allow-workload-identity-egress',
        i.selector,
        n.workloadIdentity.map(e => ({
          to: [{ ipBlock: { cidr: e.cidr } }],
          ports: tcp([e.port]),
        })),
      ),
    );
  }
  if (n.sts.cidrs.length)
    policies.push(
      egress('allow-sts-egress', i.selector, [
        { to: ipBlocks(n.sts), ports: tcp(n.sts.ports) },
      ]),
    );
  if (i.metricsScraper) {
    policies.push(
      new NetworkPolicy({
        metadata: meta('allow-metrics-scrape'),
        spec: {
          podSelector: { matchLabels: i.selector },
          policyTypes: ['Ingress'],
          // With a sidecar the scraper reads the merged metrics on 15020, which no AuthorizationPolicy covers;
          // the app port stays reachable only through the gateway's policies.
          ingress: [
            {
              from: [peerRule(i.metricsScraper)],
              ports: tcp([
                n.mesh.enabled ? ISTIO_METRICS_PORT : i.appMetricsPort,
              ]) as never,
            },
          ],
        },
      }),
    );
  }
  return policies;
}
