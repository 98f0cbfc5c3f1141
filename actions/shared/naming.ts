import { createHash } from 'node:crypto';
import {
  makeValidator,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';

/** RFC 1123 label, as Kubernetes uses for namespaces, services and service accounts. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;

/**
 * Longest project name: the longest name derived from it, the service-account Resource
 * `<name>-serving-sa`, must fit the catalog's 63 characters without truncation, so every
 * Kubernetes and catalog name below is the project name plus a fixed suffix.
 */
export const PROJECT_NAME_MAX = DNS_LABEL_MAX - '-serving-sa'.length;

/**
 * Project names may not end with a suffix that another project's derived names carry:
 * project `x-endpoint`'s repository Component would be project `x`'s endpoint Component.
 */
export const RESERVED_NAME_SUFFIXES = ['-endpoint'] as const;

/**
 * The one normalised description of a model project that every action works on.
 * All names are derived here and nowhere else, so serving, identity, gateway and
 * catalog output agree letter for letter.
 */
export interface ModelProject {
  /** DNS-1123 label, the project's and the model's name. */
  name: string;
  /** Full entity ref of the owning group (or user), e.g. `group:default/ml-platform`. */
  owner: string;
  /** Kubernetes namespace of the project: configured prefix + name. */
  namespace: string;
  /** Name of the project's Kubernetes service account: always `<name>-serving`. */
  serviceAccount: string;
  /** Branch that carries the project's GitOps change. */
  gitopsBranch: string;
}

/** Entity kinds that may own a model project (`tensorflow.ownerKinds`). */
export type OwnerKind = 'group' | 'user';
/** Owner kinds when `tensorflow.ownerKinds` is unset. */
export const DEFAULT_OWNER_KINDS: readonly OwnerKind[] = ['group'];

export interface ProjectNamingOptions {
  /** Prefix for the project namespace, e.g. `ml-`. */
  namespacePrefix: string;
  /**
   * Entity kinds accepted as owner: the one owner rule (`tensorflow.ownerKinds`), read once in
   * module.ts and followed by every action. Defaults to `['group']`.
   */
  ownerKinds?: readonly string[];
}

export function assertDnsLabel(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InputError(
      `${field} is required: give a lowercase name such as "fraud-detector"`,
    );
  }
  if (value.length > DNS_LABEL_MAX) {
    throw new InputError(
      `${field} "${value.slice(0, 80)}" is ${value.length} characters long; use at most ${DNS_LABEL_MAX}`,
    );
  }
  if (!DNS_LABEL.test(value)) {
    throw new InputError(
      `${field} "${value.slice(0, 80)}" is not a DNS-1123 label: use lowercase letters a-z, digits and "-", starting and ending with a letter or digit`,
    );
  }
  return value;
}

const entityNames = makeValidator();

/**
 * Parses an entity ref whose namespace and name follow the catalog's rules (ASCII letters,
 * digits, `-_.`, at most 63 characters): refuses look-alikes, template text and `..`.
 */
export function parseStrictEntityRef(
  value: string,
  context: { defaultKind: string; defaultNamespace?: string },
): { kind: string; namespace: string; name: string } | undefined {
  if (value.length > 255) return undefined;
  let ref;
  try {
    ref = parseEntityRef(value, {
      defaultKind: context.defaultKind,
      defaultNamespace: context.defaultNamespace ?? 'default',
    });
  } catch {
    return undefined;
  }
  if (!/^[a-zA-Z][a-z0-9A-Z]*$/.test(ref.kind)) return undefined;
  if (
    !entityNames.isValidNamespace(ref.namespace) ||
    !entityNames.isValidEntityName(ref.name)
  )
    return undefined;
  return {
    kind: ref.kind.toLocaleLowerCase('en-US'),
    namespace: ref.namespace,
    name: ref.name,
  };
}

/** Normalises an owner reference to a full entity ref of an allowed kind. */
export function normaliseOwnerRef(
  field: string,
  value: unknown,
  kinds: readonly string[] = DEFAULT_OWNER_KINDS,
): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InputError(
      `${field} is required: give an entity ref such as "group:default/ml-platform"`,
    );
  }
  const ref = parseStrictEntityRef(value.trim(), { defaultKind: kinds[0] });
  if (!ref) {
    throw new InputError(
      `${field} "${value.slice(0, 80)}" is not a valid entity ref (namespace and name: ASCII letters, digits, "-", "_", "."): use the form "group:default/ml-platform"`,
    );
  }
  if (!kinds.includes(ref.kind)) {
    throw new InputError(
      `${field} "${value.slice(0, 80)}" is a ${ref.kind}; the owner must be one of: ${kinds.join(', ')} (for example "group:default/ml-platform")`,
    );
  }
  return stringifyEntityRef(ref);
}

/** A project name: a DNS label short enough for every derived name, with no reserved suffix. */
export function assertProjectName(field: string, value: unknown): string {
  const name = assertDnsLabel(field, value);
  if (name.length > PROJECT_NAME_MAX) {
    throw new InputError(
      `${field} "${name}" is ${name.length} characters long; a model project name has at most ${PROJECT_NAME_MAX} (its service-account entity "<name>-serving-sa" must fit 63)`,
    );
  }
  const suffix = RESERVED_NAME_SUFFIXES.find(s => name.endsWith(s));
  if (suffix) {
    throw new InputError(
      `${field} "${name}" ends with "${suffix}", which is reserved: project "${name.slice(0, -suffix.length)}" names its endpoint "${name}". Choose a name that does not end with ${RESERVED_NAME_SUFFIXES.map(x => `"${x}"`).join(', ')}`,
    );
  }
  return name;
}

export function deriveProject(
  input: { name: unknown; owner: unknown },
  options: ProjectNamingOptions,
): ModelProject {
  const name = assertProjectName('name', input.name);
  const owner = normaliseOwnerRef('owner', input.owner, options.ownerKinds);
  const namespace = `${options.namespacePrefix}${name}`;
  if (namespace.length > DNS_LABEL_MAX || !DNS_LABEL.test(namespace)) {
    throw new InputError(
      `name "${name}" gives the namespace "${namespace}" (prefix "${options.namespacePrefix}"), which is not a DNS-1123 label of at most ${DNS_LABEL_MAX} characters; choose a shorter name`,
    );
  }
  return {
    name,
    owner,
    namespace,
    serviceAccount: `${name}-serving`,
    gitopsBranch: `model/${name}`,
  };
}

/** Catalog entity names of a project: each the project name plus a fixed suffix (injective). */
export interface ProjectEntityNames {
  /** Catalog namespace of every entity we register. */
  namespace: 'default';
  /** Component (type model-project): the model project's repository. */
  repo: string;
  /** Resource (type ai-model): the model. */
  model: string;
  /** Component (type model-server): the TF Serving endpoint. */
  endpoint: string;
  /** API (type openapi): the endpoint's REST API. */
  api: string;
  /** Resource (type service-account): the project's serving service account. */
  serviceAccount: string;
}

export function projectEntityNames(
  project: Pick<ModelProject, 'name' | 'serviceAccount'>,
): ProjectEntityNames {
  const names: ProjectEntityNames = {
    namespace: 'default',
    repo: project.name,
    model: `${project.name}-model`,
    endpoint: `${project.name}-endpoint`,
    api: `${project.name}-api`,
    serviceAccount: `${project.serviceAccount}-sa`,
  };
  for (const value of Object.values(names)) {
    if (value.length > DNS_LABEL_MAX)
      throw new InputError(
        `name "${project.name}" gives the entity name "${value}", longer than 63 characters`,
      );
  }
  return names;
}

/**
 * Fits `prefix + name` into `max` characters for names outside Kubernetes and the catalog
 * (cloud service accounts, IAM roles, workload identity providers). Short names stay as they
 * are (always shorter than `max`); longer ones become exactly `max` characters: a readable
 * prefix and 12 base-36 characters (about 62 bits) of the name's SHA-256. The two forms never
 * meet, and finding another project name with the same bounded name means a second preimage
 * of that hash.
 */
export function boundedName(prefix: string, name: string, max: number): string {
  const full = `${prefix}${name}`;
  if (full.length < max) return full;
  const digest = createHash('sha256').update(name).digest();
  const hash = digest
    .readBigUInt64BE(0)
    .toString(36)
    .padStart(13, '0')
    .slice(-12);
  const keep = max - prefix.length - hash.length - 1;
  if (keep < 1)
    throw new Error(
      `boundedName: prefix "${prefix}" leaves no room in ${max} characters`,
    );
  return `${prefix}${name.slice(0, keep)}-${hash}`;
}
