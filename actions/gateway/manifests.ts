import type { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import type { RequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication';
import type { Telemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1alpha1/Telemetry';
import { parseEntityRef } from '@backstage/catalog-model';
import type { GatewayGrant, ProjectGrants } from '../access/grants';
import { DEFAULT_PATH_TEMPLATE, ownedPathPattern } from '../gitops/config';
import {
  manifestFiles,
  manifestYaml,
  type ManifestLike,
} from '../gitops/manifests';
import type { GitOpsFile } from '../gitops/types';
import { istioModels } from '../shared/kubernetesModels';
import type { ModelProject } from '../shared/naming';
import {
  modelServerSelector,
  type ServingRuntime,
} from '../shared/servingSelector';
import type { GatewayConfig } from './config';
import { fillPlaceholders } from './placeholders';

export const GATEWAY_AREA = 'gateway';
/** Headers the mesh fills from the verified token (outputClaimToHeaders); the access log reads them. */
export const PRINCIPAL_HEADER = 'x-ml-principal';
export const GROUPS_HEADER = 'x-ml-groups';

export type GatewayManifest =
  RequestAuthentication | AuthorizationPolicy | Telemetry;

/** The serving spec type, taken from actions/serving's selector so the two cannot drift. */

export interface GatewayWorkload {
  /** Serving runtime; picks the same pod selector as actions/serving. Default `tfserving`. */
  runtime?: ServingRuntime;
}

type Rule = NonNullable<
  NonNullable<AuthorizationPolicy['spec']>['rules']
>[number];

/** The pod labels of the project's model server: the same selector as the serving manifests. */
export function gatewayWorkloadSelector(
  project: ModelProject,
  workload: GatewayWorkload = {},
): Record<string, string> {
  return modelServerSelector(project, workload.runtime ?? 'tfserving');
}

/** This project's token audience (config `audienceTemplate`, plain replacement). */
export function projectAudience(
  project: ModelProject,
  config: GatewayConfig,
): string {
  return fillPlaceholders(config.audienceTemplate, {
    namespace: project.namespace,
    name: project.name,
  });
}

/** The value a Backstage group ref has in the token's groups claim (config `groupClaimValue`). */
export function groupClaimValue(group: string, config: GatewayConfig): string {
  const ref = parseEntityRef(group, {
    defaultKind: 'group',
    defaultNamespace: 'default',
  });
  return fillPlaceholders(config.groupClaimValue, {
    ref: group,
    namespace: ref.namespace,
    name: ref.name,
  });
}

export function modelBasePath(project: ModelProject): string {
  return `/v1/models/${project.name}`;
}

/**
 * Istio `paths` for one absolute route from the access grants (`/v1/models/<m>`,
 * `/v1/models/<m>/metadata`, `/v1/models/<m>:predict`), covering TF Serving's
 * version and label forms (`/versions/<v>`, `/labels/<l>`):
 *  - the route itself, exact;
 *  - `""` and `/...` routes: Istio path templates `/v1/models/<m>/versions/{*}[/...]`
 *    (one whole segment; Istio with AuthorizationPolicy path templating);
 *  - `:op` routes: suffix `*:op`. Istio matches only exact, `prefix*`, `*suffix`
 *    and whole-segment templates, so `/versions/*:predict` would be an exact,
 *    never-matching string; the suffix is confined to this model by the
 *    `deny-outside-model` DENY policy built beside it.
 */
export function istioPathsForRoute(
  project: ModelProject,
  route: string,
): string[] {
  const base = modelBasePath(project);
  if (
    route !== base &&
    !route.startsWith(`${base}/`) &&
    !route.startsWith(`${base}:`)
  ) {
    throw new Error(
      `gateway route "${route}" is not under the model base path ${base}`,
    );
  }
  const rel = route.slice(base.length);
  if (/[*{}\s?#]/.test(rel))
    throw new Error(
      `gateway route "${route}" must not contain *, {, }, ?, # or spaces`,
    );
  if (rel === '') return [base, `${base}/versions/{*}`, `${base}/labels/{*}`];
  if (rel.startsWith('/'))
    return [route, `${base}/versions/{*}${rel}`, `${base}/labels/{*}${rel}`];
  if (/^:[A-Za-z0-9_.-]+$/.test(rel)) return [route, `*${rel}`];
  throw new Error(
    `gateway route "${route}": a ":" route must be a single verb such as ":predict"`,
  );
}

/** One Istio rule body per method set of a group's routes (paths expanded, de-duplicated, sorted). */
function operationsOf(
  project: ModelProject,
  grant: GatewayGrant,
): Array<{ methods: string[]; paths: string[] }> {
  const byMethods = new Map<
    string,
    { methods: string[]; paths: Set<string> }
  >();
  for (const route of grant.routes) {
    const methods = [
      ...new Set(route.methods.map(m => m.toUpperCase())),
    ].sort();
    const key = methods.join(',');
    const entry = byMethods.get(key) ?? { methods, paths: new Set<string>() };
    for (const p of route.paths)
      istioPathsForRoute(project, p).forEach(x => entry.paths.add(x));
    byMethods.set(key, entry);
  }
  return [...byMethods.values()]
    .map(e => ({ methods: e.methods, paths: [...e.paths].sort() }))
    .sort((a, b) => a.methods.join(',').localeCompare(b.methods.join(',')));
}

/**
 * ALLOW rules from the access grants: one rule per group and method set. Every
 * rule requires a verified request principal from the configured issuer, this
 * project's audience and the group in the token's groups claim.
 */
export function allowRules(
  project: ModelProject,
  grants: Pick<ProjectGrants, 'gateway'>,
  config: GatewayConfig,
): Rule[] {
  const audience = projectAudience(project, config);
  const seen = new Map<string, string>();
  const rules: Rule[] = [];
  for (const grant of [...grants.gateway].sort((a, b) =>
    a.group.localeCompare(b.group),
  )) {
    const claim = groupClaimValue(grant.group, config);
    const other = seen.get(claim);
    if (other !== undefined && other !== grant.group) {
      throw new Error(
        `groups ${other} and ${grant.group} both appear as "${claim}" in the token's ${config.groupsClaim} claim; set tensorflow.gateway.groupClaimValue to "{ref}" or "{namespace}/{name}" so they can be told apart`,
      );
    }
    seen.set(claim, grant.group);
    for (const op of operationsOf(project, grant)) {
      rules.push({
        from: [{ source: { requestPrincipals: [`${config.issuer}/*`] } }],
        to: [{ operation: { methods: op.methods, paths: op.paths } }],
        when: [
          { key: 'request.auth.audiences', values: [audience] },
          {
            key: `request.auth.claims[${config.groupsClaim}]`,
            values: [claim],
          },
        ],
      });
    }
  }
  return rules;
}

export function gatewayResourceNames(project: ModelProject) {
  return {
    jwt: `${project.name}-jwt`,
    denyAnonymous: `${project.name}-deny-anonymous`,
    denyOutsideModel: `${project.name}-deny-outside-model`,
    allow: `${project.name}-allow-granted`,
    accessLog: `${project.name}-access-log`,
  };
}

/**
 * Per-project mesh policies for the model endpoint, validated against the Istio
 * schemas. Pure: values in, typed objects out.
 *
 * - RequestAuthentication: JWTs of the configured issuer with this project's
 *   audience; `sub` and the groups claim forwarded as headers for the records.
 * - DENY requests without a request principal (Istio otherwise accepts token-less requests).
 * - DENY every path outside `/v1/models/<project>` (confines the ALLOW suffix matches).
 * - ALLOW only the granted groups' routes (no rules at all = nothing allowed).
 * - Telemetry: access logging through the configured provider.
 */
export function buildGatewayManifests(
  project: ModelProject,
  grants: Pick<ProjectGrants, 'gateway'>,
  gatewayConfig: GatewayConfig,
  workload: GatewayWorkload = {},
): GatewayManifest[] {
  const { AuthorizationPolicy, RequestAuthentication, Telemetry } =
    istioModels();
  const ns = project.namespace;
  const names = gatewayResourceNames(project);
  const selector = { matchLabels: gatewayWorkloadSelector(project, workload) };
  const labels = {
    'app.kubernetes.io/part-of': project.name,
    'app.kubernetes.io/managed-by': 'backstage-scaffolder',
  };
  const meta = (name: string) => ({
    name,
    namespace: ns,
    labels: { ...labels },
  });
  const base = modelBasePath(project);
  const rules = allowRules(project, grants, gatewayConfig);

  const manifests: GatewayManifest[] = [
    new RequestAuthentication({
      metadata: meta(names.jwt),
      spec: {
        selector,
        jwtRules: [
          {
            issuer: gatewayConfig.issuer,
            jwksUri: gatewayConfig.jwksUri,
            audiences: [projectAudience(project, gatewayConfig)],
            forwardOriginalToken: false,
            outputClaimToHeaders: [
              { header: PRINCIPAL_HEADER, claim: 'sub' },
              { header: GROUPS_HEADER, claim: gatewayConfig.groupsClaim },
            ],
          },
        ],
      },
    }),
    new AuthorizationPolicy({
      metadata: meta(names.denyAnonymous),
      spec: {
        selector,
        action: 'DENY',
        rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }] }],
      },
    }),
    new AuthorizationPolicy({
      metadata: meta(names.denyOutsideModel),
      spec: {
        selector,
        action: 'DENY',
        rules: [
          {
            to: [{ operation: { notPaths: [base, `${base}/*`, `${base}:*`] } }],
          },
        ],
      },
    }),
    new AuthorizationPolicy({
      metadata: meta(names.allow),
      // An ALLOW policy without rules allows nothing: deny by default even when no group holds a data-plane scope.
      spec: {
        selector,
        action: 'ALLOW',
        ...(rules.length > 0 ? { rules } : {}),
      },
    }),
    new Telemetry({
      metadata: meta(names.accessLog),
      spec: {
        selector,
        accessLogging: [
          { providers: [{ name: gatewayConfig.accessLogProvider }] },
        ],
      },
    }),
  ];
  for (const m of manifests) m.validate();
  return manifests;
}

/** Serialises one manifest at the edge: sorted keys, no anchors. */
export function gatewayManifestYaml(manifest: GatewayManifest): string {
  return manifestYaml(manifest as unknown as ManifestLike);
}

/** Files `projects/<namespace>/gateway/<kind>-<name>.yaml` (under the GitOps path template), sorted by path. */
export function gatewayManifestFiles(
  manifests: GatewayManifest[],
  project: ModelProject,
  pathTemplate: string = DEFAULT_PATH_TEMPLATE,
): GitOpsFile[] {
  return manifestFiles(
    manifests as unknown as ManifestLike[],
    project,
    GATEWAY_AREA,
    pathTemplate,
  );
}

/** The GitOps paths this area owns for a project (files there that we no longer generate are removed). */
export function gatewayOwnedPaths(
  project: ModelProject,
  pathTemplate: string = DEFAULT_PATH_TEMPLATE,
): RegExp {
  return ownedPathPattern(pathTemplate, {
    namespace: project.namespace,
    project: project.name,
    area: GATEWAY_AREA,
  });
}
