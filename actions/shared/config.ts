import path from 'node:path';
import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  DEFAULT_OWNER_KINDS,
  type OwnerKind,
  type ProjectNamingOptions,
} from './naming';

/** Fails backend start-up with the offending key named. */
export function configError(key: string, problem: string): Error {
  return new InputError(`Invalid app-config: tensorflow.${key} ${problem}`);
}

/** Namespaces a cluster, its distribution or its platform add-ons own. */
export const RESERVED_NAMESPACES = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'istio-system',
  'gmp-system',
  'gmp-public',
  'gke-managed-system',
  'amazon-cloudwatch',
  'cert-manager',
  'kserve',
  'knative-serving',
];
/** Namespace name prefixes reserved by Kubernetes and the distributions. */
export const RESERVED_NAMESPACE_PREFIXES = [
  'kube-',
  'openshift',
  'istio-',
  'gke-',
  'gmp-',
  'amazon-',
  'aws-',
  'eks-',
  'cattle-',
  'calico-',
  'tigera-',
  'knative-',
];

/**
 * Why `prefix + <any project name>` could land in a reserved namespace, or undefined. Also used for the
 * platform namespaces in config (gateway, DNS, metrics scraper, istiod), which projects must never be named into.
 */
export function reservedNamespaceClash(
  prefix: string,
  platformNamespaces: string[] = [],
): string | undefined {
  const p = RESERVED_NAMESPACE_PREFIXES.find(
    r => prefix.startsWith(r) || r.startsWith(prefix),
  );
  if (p) return `overlaps the reserved namespace prefix "${p}"`;
  const n = [...RESERVED_NAMESPACES, ...platformNamespaces].find(
    r => r.startsWith(prefix) && r.length > prefix.length,
  );
  if (n)
    return `lets a project named "${n.slice(prefix.length)}" land in the namespace "${n}"`;
  return undefined;
}

/**
 * Reads the naming options. `ownerKinds` is the one owner rule (see readOwnerRule); module.ts reads
 * the rule once and passes it in, so its deprecation warning is logged once.
 */
export function readNamingOptions(
  config: Config,
  ownerKinds: OwnerKind[] = readOwnerRule(config).ownerKinds,
): ProjectNamingOptions {
  const tf = config.getOptionalConfig('tensorflow');
  // getOptional: Backstage's getOptionalString refuses '' with a message that does not say why it matters.
  const rawPrefix = tf?.getOptional('namespacePrefix') ?? 'ml-';
  if (typeof rawPrefix !== 'string')
    throw configError('namespacePrefix', 'must be a string such as "ml-"');
  const namespacePrefix = rawPrefix;
  if (namespacePrefix === '') {
    throw configError(
      'namespacePrefix',
      'is empty: project namespaces need a prefix of their own, such as "ml-", so that no project can be named into kube-system, default or another platform namespace',
    );
  }
  const reserved = reservedNamespaceClash(namespacePrefix);
  if (reserved)
    throw configError(
      'namespacePrefix',
      `"${namespacePrefix}" ${reserved}; choose a prefix of your own, such as "ml-"`,
    );
  if (!/^[a-z0-9]([-a-z0-9]*)?$/.test(namespacePrefix)) {
    throw configError(
      'namespacePrefix',
      `"${namespacePrefix}" must be lowercase letters, digits and "-", starting with a letter or digit`,
    );
  }
  if (namespacePrefix.length > 40) {
    throw configError(
      'namespacePrefix',
      `"${namespacePrefix}" is longer than 40 characters; leave room for project names`,
    );
  }
  return { namespacePrefix, ownerKinds };
}

export interface OwnerRule {
  /** Entity kinds accepted as the owner of a model project, by every action. */
  ownerKinds: OwnerKind[];
  /** Start-up warning when the deprecated `tensorflow.catalog.allowUserOwners` is set. */
  deprecation?: string;
}

const sameKinds = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length &&
  a.every(k => b.includes(k)) &&
  b.every(k => a.includes(k));

/**
 * The one owner rule: `tensorflow.ownerKinds` (default `['group']`). The deprecated
 * `tensorflow.catalog.allowUserOwners` is honoured only as a fallback when ownerKinds is unset
 * (true means `[group, user]`); when both are set and disagree, start-up fails.
 */
export function readOwnerRule(config: Config): OwnerRule {
  const tf = config.getOptionalConfig('tensorflow');
  const given = tf?.getOptionalStringArray('ownerKinds');
  for (const kind of given ?? []) {
    if (kind !== 'group' && kind !== 'user') {
      throw configError(
        'ownerKinds',
        `contains "${kind}"; allowed kinds are "group" and "user"`,
      );
    }
  }
  if (given && given.length === 0)
    throw configError(
      'ownerKinds',
      'is empty; give ["group"] or ["group", "user"]',
    );
  const allowUserOwners = tf?.getOptionalBoolean('catalog.allowUserOwners');
  if (allowUserOwners === undefined)
    return { ownerKinds: (given ?? [...DEFAULT_OWNER_KINDS]) as OwnerKind[] };
  const mapped: OwnerKind[] = allowUserOwners ? ['group', 'user'] : ['group'];
  if (given && !sameKinds(given, mapped)) {
    throw configError(
      'catalog.allowUserOwners',
      `is ${allowUserOwners} but tensorflow.ownerKinds is [${given.join(', ')}]; these disagree. allowUserOwners is deprecated: remove it and keep tensorflow.ownerKinds as the one owner rule`,
    );
  }
  const ownerKinds = (given ?? mapped) as OwnerKind[];
  return {
    ownerKinds,
    deprecation:
      `tensorflow.catalog.allowUserOwners is deprecated and will be removed: replace it with tensorflow.ownerKinds: [${ownerKinds.join(', ')}] ` +
      '(the one owner rule every tensorflow:* action follows)',
  };
}

export function readLocalRepositoryRoot(config: Config): string {
  const root =
    config.getOptionalString('tensorflow.repositories.localRoot') ??
    '.data/repos';
  return path.resolve(root);
}
