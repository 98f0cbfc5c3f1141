import { makeValidator, parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';

/** RFC 1123 label, as Kubernetes uses for namespaces, services and service accounts. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;

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
  /** Name of the project's Kubernetes service account. */
  serviceAccount: string;
  /** Branch that carries the project's GitOps change. */
  gitopsBranch: string;
}

export interface ProjectNamingOptions {
  /** Prefix for the project namespace, e.g. `ml-`. */
  namespacePrefix: string;
  /** Entity kinds accepted as owner; defaults to `['group']`. */
  ownerKinds?: string[];
}

export function assertDnsLabel(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InputError(`${field} is required: give a lowercase name such as "fraud-detector"`);
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
    ref = parseEntityRef(value, { defaultKind: context.defaultKind, defaultNamespace: context.defaultNamespace ?? 'default' });
  } catch {
    return undefined;
  }
  if (!/^[a-zA-Z][a-z0-9A-Z]*$/.test(ref.kind)) return undefined;
  if (!entityNames.isValidNamespace(ref.namespace) || !entityNames.isValidEntityName(ref.name)) return undefined;
  return { kind: ref.kind.toLocaleLowerCase('en-US'), namespace: ref.namespace, name: ref.name };
}

/** Normalises an owner reference to a full entity ref of an allowed kind. */
export function normaliseOwnerRef(field: string, value: unknown, kinds: string[] = ['group']): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InputError(`${field} is required: give an entity ref such as "group:default/ml-platform"`);
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

export function deriveProject(
  input: { name: unknown; owner: unknown },
  options: ProjectNamingOptions,
): ModelProject {
  const name = assertDnsLabel('name', input.name);
  const owner = normaliseOwnerRef('owner', input.owner, options.ownerKinds);
  const namespace = `${options.namespacePrefix}${name}`;
  if (namespace.length > DNS_LABEL_MAX || !DNS_LABEL.test(namespace)) {
    throw new InputError(
      `name "${name}" gives the namespace "${namespace}" (prefix "${options.namespacePrefix}"), which is not a DNS-1123 label of at most ${DNS_LABEL_MAX} characters; choose a shorter name`,
    );
  }
  const serviceAccount = `${name}-serving`.length <= DNS_LABEL_MAX ? `${name}-serving` : name;
  return { name, owner, namespace, serviceAccount, gitopsBranch: `model/${name}` };
}
