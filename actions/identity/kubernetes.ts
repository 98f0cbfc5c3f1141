/** The Kubernetes side of a project's identity: labels, the ServiceAccount, Role/RoleBinding per scope, the projected token. */
import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { ProjectGrants } from '../access/grants';
import type { ModelProject } from '../shared/naming';
import {
  TOKEN_MAX_SECONDS,
  TOKEN_MIN_SECONDS,
  type IdentityConfig,
} from './config';
import type { Manifest } from './types';

const MANAGED_BY = 'backstage-tensorflow';
const RBAC = 'rbac.authorization.k8s.io';

export function labels(project: ModelProject): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/part-of': project.name,
  };
}

/** Group name as the cluster's OIDC groups claim carries it. */
export function oidcGroupName(groupRef: string, prefix: string): string {
  const ref = parseEntityRef(groupRef, {
    defaultKind: 'group',
    defaultNamespace: 'default',
  });
  return `${prefix}${ref.namespace === 'default' ? ref.name : `${ref.namespace}/${ref.name}`}`;
}

/**
 * The projected service-account token the serving workload mounts: bound to an
 * audience, short-lived (default 3600 s, never below 600 s), rotated by the kubelet.
 */
export function projectedTokenVolume(
  token: { audience: string; expirationSeconds?: number },
  options: { name?: string; mountPath?: string } = {},
) {
  const expirationSeconds = token.expirationSeconds ?? 3600;
  if (
    !Number.isInteger(expirationSeconds) ||
    expirationSeconds < TOKEN_MIN_SECONDS ||
    expirationSeconds > TOKEN_MAX_SECONDS
  ) {
    throw new InputError(
      `token.expirationSeconds ${expirationSeconds} is out of bounds: use ${TOKEN_MIN_SECONDS}..${TOKEN_MAX_SECONDS}`,
    );
  }
  if (!token.audience)
    throw new InputError(
      'token.audience is required: recipients must check the audience',
    );
  const name = options.name ?? 'workload-token';
  return {
    volume: {
      name,
      projected: {
        sources: [
          {
            serviceAccountToken: {
              path: 'token',
              audience: token.audience,
              expirationSeconds,
            },
          },
        ],
      },
    },
    volumeMount: {
      name,
      mountPath:
        options.mountPath ?? '/var/run/secrets/tensorflow/serviceaccount',
      readOnly: true,
    },
  };
}

/** The project's ServiceAccount (annotated for the cloud's workload identity), then a Role and RoleBinding per granted scope. */
export function kubernetesManifests(
  project: ModelProject,
  grants: ProjectGrants,
  identity: IdentityConfig,
  saAnnotations: Record<string, string>,
): Manifest[] {
  const ns = project.namespace;
  const sa = project.serviceAccount;
  const serviceAccount: Manifest = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: sa,
      namespace: ns,
      labels: labels(project),
      ...(Object.keys(saAnnotations).length
        ? { annotations: saAnnotations }
        : {}),
    },
    automountServiceAccountToken: false,
  };
  const rbac: Manifest[] = [];
  for (const g of grants.kubernetes) {
    rbac.push({
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: {
        name: g.roleName,
        namespace: ns,
        labels: { ...labels(project), 'tensorflow/scope': g.scope },
      },
      rules: g.rules,
    });
    rbac.push({
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: {
        name: g.roleName,
        namespace: ns,
        labels: { ...labels(project), 'tensorflow/scope': g.scope },
      },
      subjects: g.groups.map(group => ({
        kind: 'Group',
        apiGroup: RBAC,
        name: oidcGroupName(group, identity.groupsClaimPrefix),
      })),
      roleRef: { kind: 'Role', apiGroup: RBAC, name: g.roleName },
    });
  }
  return [serviceAccount, ...rbac];
}
