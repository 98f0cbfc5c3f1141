import type { Config } from '@backstage/config';
import { z } from 'zod';
import { lintRoleRules } from './rbacRules';

/**
 * The access policy: named scopes, what each scope grants on every target, and
 * which Backstage groups may receive which scopes. Scopes are named after a
 * permission ("deploy"), never after a job title ("data-scientist").
 */

export const REQUIRED_SCOPES = [
  'predict',
  'read-metadata',
  'deploy',
  'admin',
] as const;

export const GITHUB_PERMISSIONS = [
  'none',
  'pull',
  'triage',
  'push',
  'maintain',
  'admin',
] as const;
export type GithubPermission = (typeof GITHUB_PERMISSIONS)[number];

/**
 * A Kubernetes RBAC rule inside the project namespace. `resourceNames` entries
 * equal to `<project>` or `<serviceAccount>` are replaced (whole value only,
 * never as a template) by the project's name / service account name.
 */
export interface KubernetesRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/**
 * A data-plane route on the project's endpoint: paths are relative to the
 * model's base path (`/v1/models/<name>`), e.g. `:predict` or `/metadata`.
 * Filled in by the gateway issue; carried here so that a scope means the same
 * everywhere.
 */
export interface GatewayRoute {
  methods: string[];
  paths: string[];
}

export interface ScopeDefinition {
  description: string;
  kubernetes: { rules: KubernetesRule[] };
  github: { permission: GithubPermission };
  gateway: { routes: GatewayRoute[] };
}

export interface AccessRules {
  /** Scopes the owning group always receives. */
  ownerDefaultScopes: string[];
  /** Scopes any group may be granted per project in the wizard. */
  grantable: string[];
  /** Per-group allow-lists: extra scopes that group may be granted (besides `grantable`). */
  groups: Array<{ group: string; scopes: string[] }>;
  /** Groups that hold the admin scope platform-wide: they may provision for any owner. */
  adminGroups: string[];
}

export interface AccessPolicy {
  scopes: Record<string, ScopeDefinition>;
  rules: AccessRules;
}

/** Placeholders accepted as a whole `resourceNames` entry. */
export const RESOURCE_NAME_PLACEHOLDERS = [
  '<project>',
  '<serviceAccount>',
] as const;

const FORBIDDEN_VERBS = ['*', 'escalate', 'bind', 'impersonate'];
const FORBIDDEN_RESOURCES = [
  '*',
  'serviceaccounts/token',
  'roles',
  'rolebindings',
  'clusterroles',
  'clusterrolebindings',
  'secrets',
];
const SCOPE_NAME = /^[a-z][a-z0-9-]{0,40}$/;
const GROUP_REF = /^group:[a-z0-9._-]+\/[A-Za-z0-9._-]+$/;
const HTTP_METHODS = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
];

const ruleSchema = z
  .object({
    apiGroups: z
      .array(
        z.string().refine(g => g !== '*', {
          message: 'must not be "*"; list the API groups',
        }),
      )
      .min(1),
    resources: z
      .array(
        z.string().refine(r => !FORBIDDEN_RESOURCES.includes(r), {
          message: `must not be one of ${FORBIDDEN_RESOURCES.join(', ')} (wildcards, token minting, RBAC objects and secrets are never granted)`,
        }),
      )
      .min(1),
    verbs: z
      .array(
        z.string().refine(v => !FORBIDDEN_VERBS.includes(v), {
          message: `must not be one of ${FORBIDDEN_VERBS.join(', ')}`,
        }),
      )
      .min(1),
    resourceNames: z.array(z.string().min(1)).optional(),
  })
  .strict();

const routeSchema = z
  .object({
    methods: z.array(z.enum(HTTP_METHODS as [string, ...string[]])).min(1),
    paths: z
      .array(
        z.string().regex(/^(|[:/][A-Za-z0-9:/._-]*)$/, {
          message:
            'must be relative to the model base path and start with ":" or "/" (e.g. ":predict", "/metadata"), or be "" for the base path',
        }),
      )
      .min(1),
  })
  .strict();

const scopeSchema = z
  .object({
    description: z.string().optional(),
    kubernetes: z
      .object({ rules: z.array(ruleSchema) })
      .strict()
      .optional(),
    github: z
      .object({ permission: z.enum(GITHUB_PERMISSIONS) })
      .strict()
      .optional(),
    gateway: z
      .object({ routes: z.array(routeSchema) })
      .strict()
      .optional(),
  })
  .strict();

const groupRefSchema = z.string().regex(GROUP_REF, {
  message:
    'must be a full group entity ref such as "group:default/ml-platform"',
});

const rulesSchema = z
  .object({
    ownerDefaultScopes: z.array(z.string()).optional(),
    grantable: z.array(z.string()).optional(),
    groups: z
      .array(
        z
          .object({ group: groupRefSchema, scopes: z.array(z.string()) })
          .strict(),
      )
      .optional(),
    adminGroups: z.array(groupRefSchema).optional(),
  })
  .strict();

const policySchema = z
  .object({
    scopes: z.record(z.string(), scopeSchema).optional(),
    rules: rulesSchema.optional(),
  })
  .strict();

const READ: KubernetesRule[] = [
  {
    apiGroups: [''],
    resources: ['services', 'endpoints', 'pods'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments'],
    verbs: ['get', 'list', 'watch'],
  },
];

/** Embedded defaults: used as-is when `tensorflow.access` is absent. */
export const DEFAULT_ACCESS_POLICY: AccessPolicy = {
  scopes: {
    predict: {
      description:
        'Call the model: POST :predict, :classify and :regress on the project endpoint',
      kubernetes: { rules: [] },
      github: { permission: 'none' },
      gateway: {
        routes: [
          { methods: ['POST'], paths: [':predict', ':classify', ':regress'] },
        ],
      },
    },
    'read-metadata': {
      description:
        'Read model status and metadata, the repository, and the workload in the namespace',
      kubernetes: { rules: READ },
      github: { permission: 'pull' },
      gateway: { routes: [{ methods: ['GET'], paths: ['', '/metadata'] }] },
    },
    deploy: {
      // No workload writes: CI publishes versions to model storage and the server loads them; workload
      // changes go through the reviewed GitOps change (a pod template could mount any Secret).
      description:
        'Roll out new model versions: push to the repository (CI publishes them to model storage); read the workload and its logs',
      kubernetes: {
        rules: [
          ...READ,
          { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
        ],
      },
      github: { permission: 'push' },
      gateway: { routes: [] },
    },
    admin: {
      description:
        'Administer the project: manage services and config in the namespace, restart pods, maintain the repository (workloads change through GitOps)',
      kubernetes: {
        rules: [
          ...READ,
          {
            apiGroups: [''],
            resources: ['services', 'configmaps'],
            verbs: [
              'get',
              'list',
              'watch',
              'create',
              'update',
              'patch',
              'delete',
            ],
          },
          {
            apiGroups: [''],
            resources: ['pods', 'pods/log'],
            verbs: ['get', 'list', 'watch', 'delete'],
          },
        ],
      },
      github: { permission: 'maintain' },
      gateway: {
        routes: [
          { methods: ['POST'], paths: [':predict', ':classify', ':regress'] },
          { methods: ['GET'], paths: ['', '/metadata'] },
        ],
      },
    },
  },
  rules: {
    ownerDefaultScopes: ['admin'],
    grantable: ['predict', 'read-metadata'],
    groups: [],
    adminGroups: [],
  },
};

function keyOf(prefix: string, path: (string | number)[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${p}`),
    prefix,
  );
}

export class AccessPolicyError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`Invalid access policy at ${key}: ${detail}`);
    this.name = 'AccessPolicyError';
  }
}

/**
 * Validates a plain access-policy object (as found under `tensorflow.access`),
 * fills in embedded defaults and returns the full policy. Throws an
 * AccessPolicyError naming the offending key.
 */
export function parseAccessPolicy(
  raw: unknown,
  prefix = 'tensorflow.access',
): AccessPolicy {
  if (raw === undefined || raw === null) return DEFAULT_ACCESS_POLICY;
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AccessPolicyError(keyOf(prefix, issue.path), issue.message);
  }
  const value = parsed.data;
  const scopes: Record<string, ScopeDefinition> = {};
  for (const [name, s] of Object.entries(
    value.scopes ?? DEFAULT_ACCESS_POLICY.scopes,
  )) {
    if (!SCOPE_NAME.test(name)) {
      throw new AccessPolicyError(
        `${prefix}.scopes.${name}`,
        'scope names are lowercase permission names such as "deploy"',
      );
    }
    scopes[name] = {
      description: s.description ?? name,
      kubernetes: { rules: s.kubernetes?.rules ?? [] },
      github: { permission: s.github?.permission ?? 'none' },
      gateway: { routes: s.gateway?.routes ?? [] },
    };
    scopes[name].kubernetes.rules.forEach((rule, i) =>
      (rule.resourceNames ?? []).forEach((n, j) => {
        if (
          n.startsWith('<') &&
          !(RESOURCE_NAME_PLACEHOLDERS as readonly string[]).includes(n)
        ) {
          throw new AccessPolicyError(
            `${prefix}.scopes.${name}.kubernetes.rules[${i}].resourceNames[${j}]`,
            `unknown placeholder "${n}"; use one of ${RESOURCE_NAME_PLACEHOLDERS.join(', ')}`,
          );
        }
      }),
    );
  }
  for (const [name, scope] of Object.entries(scopes)) {
    const finding = lintRoleRules(scope.kubernetes.rules)[0];
    if (finding)
      throw new AccessPolicyError(
        `${prefix}.scopes.${name}.kubernetes.rules`,
        `[${finding.rule}] ${finding.message}`,
      );
  }
  for (const required of REQUIRED_SCOPES) {
    if (!scopes[required]) {
      throw new AccessPolicyError(
        `${prefix}.scopes.${required}`,
        `the scope "${required}" is required (required scopes: ${REQUIRED_SCOPES.join(', ')})`,
      );
    }
  }
  const d = DEFAULT_ACCESS_POLICY.rules;
  const rules: AccessRules = {
    ownerDefaultScopes: value.rules?.ownerDefaultScopes ?? d.ownerDefaultScopes,
    grantable: value.rules?.grantable ?? d.grantable,
    groups: value.rules?.groups ?? d.groups,
    adminGroups: value.rules?.adminGroups ?? d.adminGroups,
  };
  const checkScopes = (key: string, list: string[]) =>
    list.forEach((s, i) => {
      if (!scopes[s]) {
        throw new AccessPolicyError(
          `${key}[${i}]`,
          `unknown scope "${s}"; known scopes: ${Object.keys(scopes).join(', ')}`,
        );
      }
    });
  checkScopes(`${prefix}.rules.ownerDefaultScopes`, rules.ownerDefaultScopes);
  checkScopes(`${prefix}.rules.grantable`, rules.grantable);
  rules.groups.forEach((g, i) =>
    checkScopes(`${prefix}.rules.groups[${i}].scopes`, g.scopes),
  );
  return { scopes, rules };
}

/** Reads and validates `tensorflow.access`; call once at backend start-up. */
export function readAccessPolicy(config: Config): AccessPolicy {
  const raw = config.getOptional('tensorflow.access');
  return parseAccessPolicy(raw);
}
