import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { computeGrants } from '../access/grants';
import { SERVING_DEFAULTS } from '../serving/config';
import { buildServingManifests } from '../serving/manifests';
import { resolveServingSpec } from '../serving/request';
import { GATEWAY_DEFAULTS } from './config';
import {
  POLICIES,
  projectA,
  projectB,
  token,
} from '../../test/support/gateway/fixtures';
import {
  buildGatewayManifests,
  gatewayOwnedPaths,
  gatewayWorkloadSelector,
  projectAudience,
  type GatewayManifest,
} from './manifests';
import {
  istioStringMatch,
  simulateRequest,
} from '../../test/support/gateway/simulate';

const config = GATEWAY_DEFAULTS;
const requested = { 'group:default/risk': ['predict'] };

function servingPodLabels(
  project: typeof projectA,
  runtime: 'tfserving' | 'kserve' = 'tfserving',
): Record<string, string> {
  const serving = { ...SERVING_DEFAULTS, runtime };
  const spec = resolveServingSpec({}, project, serving);
  const built = buildServingManifests(project, spec, serving).manifests;
  if (runtime === 'kserve') {
    // KServe labels the predictor pods with the InferenceService name.
    return {
      'serving.kserve.io/inferenceservice': built.find(
        m => m.kind === 'InferenceService',
      )!.metadata!.name!,
    };
  }
  const deployment = built.find(
    (m): m is Deployment => m.kind === 'Deployment',
  )!;
  return deployment.spec!.template.metadata!.labels!;
}

function predictRule(manifests: GatewayManifest[]) {
  const allow = manifests.find(
    (m): m is AuthorizationPolicy =>
      m.kind === 'AuthorizationPolicy' && m.spec!.action === 'ALLOW',
  )!;
  return allow.spec!.rules!.find(
    r =>
      r.when!.some(w => (w.values ?? []).includes('risk')) &&
      r.to![0].operation!.methods!.includes('POST'),
  )!;
}

const selectorOf = (m: GatewayManifest) =>
  (m.spec as { selector: { matchLabels: Record<string, string> } }).selector
    .matchLabels;
const matches = (
  selector: Record<string, string>,
  labels: Record<string, string>,
) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('the workload selector matches actions/serving exactly', () => {
  it.each(['tfserving', 'kserve'] as const)(
    "%s: selects the project workload pods and not the other project's",
    runtime => {
      const a = gatewayWorkloadSelector(projectA, { runtime });
      expect(matches(a, servingPodLabels(projectA, runtime))).toBe(true);
      expect(matches(a, servingPodLabels(projectB, runtime))).toBe(false);
      for (const m of buildGatewayManifests(
        projectA,
        computeGrants(POLICIES.default, projectA, requested),
        config,
        { runtime },
      )) {
        expect(selectorOf(m)).toEqual(a);
        expect(m.metadata!.namespace).toBe(projectA.namespace);
      }
    },
  );
});

describe.each(Object.keys(POLICIES))(
  'cross-project isolation with the %s policy',
  name => {
    const a = buildGatewayManifests(
      projectA,
      computeGrants(POLICIES[name], projectA, requested),
      config,
    );
    const b = buildGatewayManifests(
      projectB,
      computeGrants(POLICIES[name], projectB, requested),
      config,
    );
    const ruleA = predictRule(a);
    const ruleB = predictRule(b);
    const audA = projectAudience(projectA, config);
    const audB = projectAudience(projectB, config);

    it("A's predict rule never selects B's workload, nor accepts B's audience", () => {
      expect(audA).not.toBe(audB);
      for (const m of a)
        expect(matches(selectorOf(m), servingPodLabels(projectB))).toBe(false);
      expect(a.every(m => m.metadata!.namespace === projectA.namespace)).toBe(
        true,
      );
      const audiences = (r: typeof ruleA) =>
        r
          .when!.filter(w => w.key === 'request.auth.audiences')
          .flatMap(w => w.values!);
      expect(audiences(ruleA)).toEqual([audA]);
      expect(audiences(ruleB)).toEqual([audB]);
    });

    it("every model-specific path of A's rule misses B's routes, and A's suffix paths are confined to A's model", () => {
      const bRoutes = [
        '',
        ':predict',
        ':classify',
        ':regress',
        '/metadata',
        '/versions/1:predict',
        '/labels/stable:predict',
        '/versions/1',
        '/versions/1/metadata',
      ].map(r => `/v1/models/${projectB.name}${r}`);
      const pathsA = ruleA.to!.flatMap(t => t.operation!.paths!);
      const suffixes = pathsA.filter(p => p.startsWith('*'));
      for (const p of pathsA.filter(x => !x.startsWith('*'))) {
        expect(p.startsWith(`/v1/models/${projectA.name}`)).toBe(true);
        for (const route of bRoutes)
          expect(istioStringMatch(p, route, true)).toBe(false);
      }
      expect(suffixes.length).toBeGreaterThan(0);
      // The DENY beside it refuses every B route on A's workload, so a suffix can never admit one.
      const outside = a.find(
        m => m.metadata!.name === `${projectA.name}-deny-outside-model`,
      ) as AuthorizationPolicy;
      const notPaths = outside.spec!.rules![0].to![0].operation!.notPaths!;
      for (const route of bRoutes)
        expect(notPaths.some(p => istioStringMatch(p, route, true))).toBe(
          false,
        );
    });

    it("simulated: a token for A is refused on B, a token for B is refused on A, and B's path is refused on A", () => {
      const both = [...a, ...b];
      const call = (project: typeof projectA, aud: string, path: string) =>
        simulateRequest(both, {
          namespace: project.namespace,
          workloadLabels: servingPodLabels(project),
          method: 'POST',
          path,
          token: token(aud, ['risk']),
        });
      expect(
        call(projectA, audA, `/v1/models/${projectA.name}:predict`),
      ).toEqual({ allowed: true });
      expect(
        call(projectB, audB, `/v1/models/${projectB.name}:predict`),
      ).toEqual({ allowed: true });
      expect(
        call(projectB, audA, `/v1/models/${projectB.name}:predict`),
      ).toMatchObject({ allowed: false, status: 401 });
      expect(
        call(projectA, audB, `/v1/models/${projectA.name}:predict`),
      ).toMatchObject({ allowed: false, status: 401 });
      expect(
        call(projectA, audA, `/v1/models/${projectB.name}/versions/1:predict`),
      ).toMatchObject({
        allowed: false,
        reason: `denied by ${projectA.name}-deny-outside-model`,
      });
      // A token of another issuer, or one with both audiences but groups holding nothing here.
      expect(
        call(projectA, audA, `/v1/models/${projectA.name}:predict`),
      ).toEqual({ allowed: true });
      const foreign = simulateRequest(both, {
        namespace: projectA.namespace,
        workloadLabels: servingPodLabels(projectA),
        method: 'POST',
        path: `/v1/models/${projectA.name}:predict`,
        token: token(audA, ['risk'], { iss: 'https://evil.example' }),
      });
      expect(foreign).toMatchObject({ allowed: false, status: 401 });
      const noScope = simulateRequest(both, {
        namespace: projectA.namespace,
        workloadLabels: servingPodLabels(projectA),
        method: 'POST',
        path: `/v1/models/${projectA.name}:predict`,
        token: { ...token(audA, ['marketing']), aud: [audA, audB] },
      });
      expect(noScope).toMatchObject({
        allowed: false,
        status: 403,
        reason: 'no ALLOW rule matched',
      });
    });

    it("owned GitOps paths of A never cover B's files", () => {
      expect(
        gatewayOwnedPaths(projectA).test(
          `projects/${projectA.namespace}/gateway/authorizationpolicy-x.yaml`,
        ),
      ).toBe(true);
      expect(
        gatewayOwnedPaths(projectA).test(
          `projects/${projectB.namespace}/gateway/authorizationpolicy-x.yaml`,
        ),
      ).toBe(false);
      expect(
        gatewayOwnedPaths(projectA).test(
          `projects/${projectA.namespace}/serving/deployment-x.yaml`,
        ),
      ).toBe(false);
    });
  },
);
