import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { z as zod } from 'zod/v3';
import { parseStrictEntityRef, type ModelProject } from '../shared/naming';
import {
  GITHUB_PERMISSIONS,
  type AccessPolicy,
  type GatewayRoute,
  type GithubPermission,
  type KubernetesRule,
} from './config';

/** Scopes requested per group in the wizard: `{ "group:default/risk": ["predict"] }`. */
export type RequestedGrants = Record<string, string[]>;

/**
 * The `grants` action input: either an object of group -> scopes, or the list the wizard's
 * form produces, `[{ group, scopes }]`. Shared by every action that takes grants.
 */
export const grantsInput = (z: typeof zod) =>
  z
    .union([
      z.record(z.string(), z.array(z.string())),
      z.array(z.object({ group: z.string(), scopes: z.array(z.string()) })),
    ])
    .optional()
    .describe(
      'Scopes per other group, e.g. { "group:default/risk": ["predict"] } or [{ group: "group:default/risk", scopes: ["predict"] }]; only scopes the access policy allows',
    );

/** Turns either form of the `grants` input into group -> scopes, merging repeated groups. */
export function normaliseRequestedGrants(value: unknown): RequestedGrants {
  if (value === undefined || value === null || value === '') return {};
  const example =
    'e.g. [{ "group": "group:default/risk", "scopes": ["predict"] }]';
  if (Array.isArray(value)) {
    const out: RequestedGrants = {};
    value.forEach((item, i) => {
      const { group, scopes } = (item ?? {}) as {
        group?: unknown;
        scopes?: unknown;
      };
      if (typeof group !== 'string' || group === '')
        throw new InputError(
          `grants[${i}].group must be a group ref, ${example}`,
        );
      if (!Array.isArray(scopes) || scopes.some(s => typeof s !== 'string')) {
        throw new InputError(
          `grants[${i}].scopes must be a list of scope names, ${example}`,
        );
      }
      out[group] = [
        ...new Set([...(out[group] ?? []), ...(scopes as string[])]),
      ];
    });
    return out;
  }
  if (typeof value !== 'object')
    throw new InputError(
      `grants must be a list of { group, scopes } or an object of group -> scopes, ${example}`,
    );
  return value as RequestedGrants;
}

export interface KubernetesScopeGrant {
  scope: string;
  /** Role name in the project namespace, e.g. `tensorflow-deploy`. */
  roleName: string;
  rules: KubernetesRule[];
  /** Backstage group refs bound to this role. */
  groups: string[];
}

export interface GithubGrant {
  group: string;
  /** Strongest repository permission over the group's scopes. */
  permission: Exclude<GithubPermission, 'none'>;
  scopes: string[];
}

export interface GatewayGrant {
  group: string;
  /** Absolute data-plane routes (`/v1/models/<name>...`). */
  routes: GatewayRoute[];
  scopes: string[];
}

export interface ProjectGrants {
  /** Scopes per group (owner first), sorted, de-duplicated. */
  groups: Record<string, string[]>;
  kubernetes: KubernetesScopeGrant[];
  github: GithubGrant[];
  gateway: GatewayGrant[];
}

function normaliseGroup(field: string, value: string): string {
  const ref =
    typeof value === 'string'
      ? parseStrictEntityRef(value, { defaultKind: 'group' })
      : undefined;
  if (!ref || ref.kind !== 'group') {
    throw new InputError(
      `${field.slice(0, 120)}: "${String(value).slice(0, 80)}" is not a group ref; use the form "group:default/risk-analytics"`,
    );
  }
  return stringifyEntityRef(ref);
}

/** Scopes a group may receive on a project under the policy. */
export function allowedScopesFor(
  policy: AccessPolicy,
  project: Pick<ModelProject, 'owner'>,
  group: string,
): string[] {
  const allowed = new Set(policy.rules.grantable);
  for (const g of policy.rules.groups)
    if (g.group === group) g.scopes.forEach(s => allowed.add(s));
  if (group === project.owner)
    policy.rules.ownerDefaultScopes.forEach(s => allowed.add(s));
  return [...allowed].sort();
}

/** Fills the `<project>` and `<serviceAccount>` placeholders a policy may use in `resourceNames`. */
function resolveResourceName(name: string, project: ModelProject): string {
  if (name === '<project>') return project.name;
  if (name === '<serviceAccount>') return project.serviceAccount;
  return name;
}

function resolveRule(
  rule: KubernetesRule,
  project: ModelProject,
): KubernetesRule {
  const out: KubernetesRule = {
    apiGroups: [...rule.apiGroups],
    resources: [...rule.resources],
    verbs: [...rule.verbs],
  };
  if (rule.resourceNames && rule.resourceNames.length > 0) {
    out.resourceNames = rule.resourceNames.map(n =>
      resolveResourceName(n, project),
    );
  }
  return out;
}

function resolveRoutes(
  routes: GatewayRoute[],
  project: ModelProject,
): GatewayRoute[] {
  const base = `/v1/models/${project.name}`;
  return routes.map(r => ({
    methods: [...r.methods].sort(),
    paths: r.paths.map(p => `${base}${p}`),
  }));
}

/**
 * THE mapping from scopes to grants on every target. Serving, gateway, identity
 * and catalog code all call this, so a scope means the same everywhere.
 *
 * The owner group always receives `rules.ownerDefaultScopes`; any other group
 * receives only what it requests, and only from the scopes the policy allows it
 * (`grantable` plus its own allow-list). Anything else is an InputError naming
 * the group, the scope and what is allowed.
 */
export function computeGrants(
  policy: AccessPolicy,
  project: ModelProject,
  requested: RequestedGrants = {},
): ProjectGrants {
  const perGroup = new Map<string, Set<string>>();
  perGroup.set(project.owner, new Set(policy.rules.ownerDefaultScopes));
  for (const [rawGroup, scopes] of Object.entries(requested)) {
    const group = normaliseGroup(`grants.${rawGroup}`, rawGroup);
    if (!Array.isArray(scopes)) {
      throw new InputError(
        `grants.${rawGroup} must be a list of scopes such as ["predict"]`,
      );
    }
    if (group === project.owner) {
      throw new InputError(
        `grants.${rawGroup}: ${group} owns the project and already gets ${policy.rules.ownerDefaultScopes.join(', ') || 'its default scopes'}; grant other groups only`,
      );
    }
    if (scopes.length === 0) {
      throw new InputError(
        `grants.${rawGroup}: no scope chosen; give ${group} at least one scope, or remove the grant`,
      );
    }
    const allowed = allowedScopesFor(policy, project, group);
    const set = perGroup.get(group) ?? new Set<string>();
    for (const scope of scopes) {
      if (!policy.scopes[scope]) {
        throw new InputError(
          `grants.${rawGroup}: unknown scope "${String(scope).slice(0, 40)}"; known scopes: ${Object.keys(policy.scopes).sort().join(', ')}`,
        );
      }
      if (!allowed.includes(scope)) {
        throw new InputError(
          `grants.${rawGroup}: the access policy does not allow granting "${scope}" to ${group} on this project; allowed: ${allowed.join(', ') || 'none'} (ask the platform team to add it to tensorflow.access.rules)`,
        );
      }
      set.add(scope);
    }
    if (set.size > 0) perGroup.set(group, set);
  }

  const groupNames = [
    project.owner,
    ...[...perGroup.keys()].filter(g => g !== project.owner).sort(),
  ];
  const groups: Record<string, string[]> = {};
  for (const g of groupNames) groups[g] = [...perGroup.get(g)!].sort();

  const kubernetes: KubernetesScopeGrant[] = [];
  for (const scope of Object.keys(policy.scopes).sort()) {
    const rules = policy.scopes[scope].kubernetes.rules;
    const holders = groupNames.filter(g => groups[g].includes(scope));
    if (rules.length === 0 || holders.length === 0) continue;
    kubernetes.push({
      scope,
      roleName: `tensorflow-${scope}`,
      rules: rules.map(r => resolveRule(r, project)),
      groups: holders,
    });
  }

  const rank = (p: GithubPermission) => GITHUB_PERMISSIONS.indexOf(p);
  const github: GithubGrant[] = [];
  const gateway: GatewayGrant[] = [];
  for (const g of groupNames) {
    let best: GithubPermission = 'none';
    const routes: GatewayRoute[] = [];
    for (const scope of groups[g]) {
      const def = policy.scopes[scope];
      if (rank(def.github.permission) > rank(best))
        best = def.github.permission;
      routes.push(...resolveRoutes(def.gateway.routes, project));
    }
    if (best !== 'none')
      github.push({ group: g, permission: best, scopes: groups[g] });
    if (routes.length > 0)
      gateway.push({ group: g, routes, scopes: groups[g] });
  }
  return { groups, kubernetes, github, gateway };
}
