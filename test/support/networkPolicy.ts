import { BlockList, isIP } from 'node:net';

/**
 * A NetworkPolicy evaluator (networking.k8s.io/v1), following
 * https://kubernetes.io/docs/concepts/services-networking/network-policies/:
 *  - a pod is isolated for a direction when some policy in its namespace selects it with that policyType;
 *  - an isolated pod accepts only traffic some selecting policy's rule allows (policies are additive);
 *  - a connection needs the source's egress AND the destination's ingress to allow it;
 *  - a peer with namespaceSelector and podSelector in one element is AND; separate elements are OR;
 *    podSelector alone means the policy's own namespace; ipBlock matches by address minus `except`
 *    (modelled for every address, pods included: the conservative reading, as Calico and Cilium do);
 *  - no `ports` = all ports; protocol defaults to TCP; `endPort` gives a range.
 * Fields it does not model make it throw, so a policy is never half-read.
 */
type Obj = Record<string, any>;

export interface NetPod {
  kind: 'pod';
  namespace: string;
  labels: Record<string, string>;
  ip: string;
}
export interface NetExternal {
  kind: 'ip';
  ip: string;
}
export type NetEndpoint = NetPod | NetExternal;

export interface Cluster {
  /** Namespace name -> labels (kubernetes.io/metadata.name is added automatically). */
  namespaces: Record<string, Record<string, string>>;
  policies: Obj[];
}

function known(obj: Obj, keys: string[], where: string) {
  for (const k of Object.keys(obj ?? {}))
    if (!keys.includes(k))
      throw new Error(`NetworkPolicy evaluator does not model ${where}.${k}`);
}

export function selectorMatches(
  selector: Obj | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  known(selector, ['matchLabels', 'matchExpressions'], 'labelSelector');
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  }
  return true;
}

function inCidr(ip: string, cidr: string): boolean {
  const [addr, bits] = cidr.split('/');
  const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
  if ((isIP(ip) === 6 ? 'ipv6' : 'ipv4') !== family) return false;
  const list = new BlockList();
  list.addSubnet(addr, Number(bits), family);
  return list.check(ip, family);
}

function nsLabels(cluster: Cluster, ns: string): Record<string, string> {
  return {
    ...(cluster.namespaces[ns] ?? {}),
    'kubernetes.io/metadata.name': ns,
  };
}

function peerMatches(
  cluster: Cluster,
  policyNs: string,
  peer: Obj,
  ep: NetEndpoint,
): boolean {
  known(peer, ['podSelector', 'namespaceSelector', 'ipBlock'], 'peer');
  if (peer.ipBlock) {
    known(peer.ipBlock, ['cidr', 'except'], 'ipBlock');
    return (
      inCidr(ep.ip, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((e: string) => inCidr(ep.ip, e))
    );
  }
  if (ep.kind !== 'pod') return false;
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, nsLabels(cluster, ep.namespace))
    : ep.namespace === policyNs;
  return nsOk && selectorMatches(peer.podSelector, ep.labels);
}

function portMatches(
  ports: Obj[] | undefined,
  port: number,
  protocol: string,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some(p => {
    known(p, ['port', 'protocol', 'endPort'], 'port');
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port !== 'number')
      throw new Error('named ports are not modelled');
    return p.endPort !== undefined
      ? port >= p.port && port <= p.endPort
      : port === p.port;
  });
}

type Direction = 'Ingress' | 'Egress';

function typesOf(spec: Obj): Direction[] {
  if (spec.policyTypes) return spec.policyTypes;
  return spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Whether `pod` may send (Egress) to / receive (Ingress) from `peer` on port/protocol, and which policy decided. */
function directionAllows(
  cluster: Cluster,
  pod: NetPod,
  direction: Direction,
  peer: NetEndpoint,
  port: number,
  protocol: string,
): { allowed: boolean; by: string } {
  const selecting = cluster.policies.filter(p => {
    known(p.spec, ['podSelector', 'policyTypes', 'ingress', 'egress'], 'spec');
    return (
      p.metadata.namespace === pod.namespace &&
      selectorMatches(p.spec.podSelector, pod.labels) &&
      typesOf(p.spec).includes(direction)
    );
  });
  if (selecting.length === 0) return { allowed: true, by: 'not isolated' };
  for (const p of selecting) {
    const rules: Obj[] =
      (direction === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? [];
    for (const r of rules) {
      known(
        r,
        direction === 'Ingress' ? ['from', 'ports'] : ['to', 'ports'],
        direction.toLowerCase(),
      );
      const peers: Obj[] | undefined = direction === 'Ingress' ? r.from : r.to;
      const peerOk =
        !peers ||
        peers.length === 0 ||
        peers.some(x => peerMatches(cluster, p.metadata.namespace, x, peer));
      if (peerOk && portMatches(r.ports, port, protocol))
        return { allowed: true, by: p.metadata.name };
    }
  }
  return {
    allowed: false,
    by: `${direction.toLowerCase()} isolated by ${selecting.map(p => p.metadata.name).join(', ')}`,
  };
}

export interface FlowVerdict {
  allowed: boolean;
  reason: string;
}

export function evaluateConnection(
  cluster: Cluster,
  from: NetEndpoint,
  to: NetEndpoint,
  port: number,
  protocol: 'TCP' | 'UDP' = 'TCP',
): FlowVerdict {
  if (from.kind === 'pod') {
    const e = directionAllows(cluster, from, 'Egress', to, port, protocol);
    if (!e.allowed)
      return { allowed: false, reason: `egress denied (${e.by})` };
  }
  if (to.kind === 'pod') {
    const i = directionAllows(cluster, to, 'Ingress', from, port, protocol);
    if (!i.allowed)
      return { allowed: false, reason: `ingress denied (${i.by})` };
  }
  return { allowed: true, reason: 'allowed' };
}
