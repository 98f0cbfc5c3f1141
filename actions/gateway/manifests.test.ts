import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { RequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication';
import { Telemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1alpha1/Telemetry';
import { parse } from 'yaml';
import { computeGrants } from '../access/grants';
import { GATEWAY_DEFAULTS, parseGatewayConfig } from './config';
import {
  POLICIES,
  grantableEverything,
  projectA,
  token,
} from '../../test/support/gateway/fixtures';
import {
  buildGatewayManifests,
  gatewayManifestFiles,
  gatewayWorkloadSelector,
  istioPathsForRoute,
  projectAudience,
  type GatewayManifest,
} from './manifests';
import {
  simulateRequest,
  type SimulatedRequest,
} from '../../test/support/gateway/simulate';

const config = GATEWAY_DEFAULTS;
const PROBE = 'group:default/probe';
const A = '/v1/models/fraud-detector';
const podLabels = gatewayWorkloadSelector(projectA);

type Rule = NonNullable<
  NonNullable<AuthorizationPolicy['spec']>['rules']
>[number];

function policies(manifests: GatewayManifest[]): AuthorizationPolicy[] {
  return manifests.filter(
    (m): m is AuthorizationPolicy => m.kind === 'AuthorizationPolicy',
  );
}
function allowRulesOf(manifests: GatewayManifest[]): Rule[] {
  return policies(manifests)
    .filter(p => p.spec!.action === 'ALLOW')
    .flatMap(p => p.spec!.rules ?? []);
}
function groupsIn(rule: Rule): string[] {
  return (rule.when ?? [])
    .filter(w => w.key === 'request.auth.claims[groups]')
    .flatMap(w => w.values ?? []);
}
/** method -> sorted paths, over the rules naming `claim`. */
function routesFor(
  manifests: GatewayManifest[],
  claim: string,
): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const rule of allowRulesOf(manifests).filter(r =>
    groupsIn(r).includes(claim),
  )) {
    for (const { operation } of rule.to ?? []) {
      for (const m of operation!.methods!)
        for (const p of operation!.paths!) (out[m] ??= new Set()).add(p);
    }
  }
  return Object.fromEntries(
    Object.entries(out).map(([m, s]) => [m, [...s].sort()]),
  );
}
function request(
  method: string,
  path: string,
  groups?: string[],
  aud = projectAudience(projectA, config),
): SimulatedRequest {
  return {
    namespace: projectA.namespace,
    workloadLabels: podLabels,
    method,
    path,
    ...(groups ? { token: token(aud, groups) } : {}),
  };
}

describe('buildGatewayManifests', () => {
  const grants = computeGrants(POLICIES.default, projectA, {
    'group:default/risk': ['predict'],
  });
  const manifests = buildGatewayManifests(projectA, grants, config);

  it('produces RequestAuthentication, two DENY and one ALLOW policy and a Telemetry, all valid against the Istio schemas', () => {
    expect(manifests.map(m => `${m.kind}/${m.metadata!.name}`)).toEqual([
      'RequestAuthentication/fraud-detector-jwt',
      'AuthorizationPolicy/fraud-detector-deny-anonymous',
      'AuthorizationPolicy/fraud-detector-deny-outside-model',
      'AuthorizationPolicy/fraud-detector-allow-granted',
      'Telemetry/fraud-detector-access-log',
    ]);
    for (const m of manifests) {
      expect(m.metadata!.namespace).toBe('ml-fraud-detector');
      expect(() => m.validate()).not.toThrow();
    }
  });

  it('writes one file per resource under projects/<namespace>/gateway/<kind>-<name>.yaml that parses back into valid resources', () => {
    const files = gatewayManifestFiles(manifests, projectA);
    expect(files.map(f => f.path)).toEqual([
      'projects/ml-fraud-detector/gateway/authorizationpolicy-fraud-detector-allow-granted.yaml',
      'projects/ml-fraud-detector/gateway/authorizationpolicy-fraud-detector-deny-anonymous.yaml',
      'projects/ml-fraud-detector/gateway/authorizationpolicy-fraud-detector-deny-outside-model.yaml',
      'projects/ml-fraud-detector/gateway/requestauthentication-fraud-detector-jwt.yaml',
      'projects/ml-fraud-detector/gateway/telemetry-fraud-detector-access-log.yaml',
    ]);
    for (const f of files) {
      const obj = parse(f.content);
      const Model = { AuthorizationPolicy, RequestAuthentication, Telemetry }[
        obj.kind as 'Telemetry'
      ];
      expect(() => new Model(obj).validate()).not.toThrow();
    }
    expect(files[0].content).toContain('request.auth.claims[groups]');
  });

  it('the schema validation is real: a wrong action or a non-list is refused', () => {
    const bad = JSON.parse(JSON.stringify(manifests[3].toJSON()));
    bad.spec.action = 'PERMIT';
    expect(() => new AuthorizationPolicy(bad).validate()).toThrow(/action/);
    const ra = JSON.parse(JSON.stringify(manifests[0].toJSON()));
    ra.spec.jwtRules[0].audiences = 'tensorflow-serving/ml-fraud-detector';
    expect(() => new RequestAuthentication(ra).validate()).toThrow();
  });

  it('authenticates with the configured issuer, JWKS and the per-project audience and forwards sub and groups', () => {
    const ra = manifests[0] as RequestAuthentication;
    expect(ra.spec!.selector).toEqual({ matchLabels: podLabels });
    expect(ra.spec!.jwtRules).toEqual([
      {
        issuer: 'https://idp.dev.localhost',
        jwksUri: 'https://idp.dev.localhost/.well-known/jwks.json',
        audiences: ['tensorflow-serving/ml-fraud-detector'],
        forwardOriginalToken: false,
        outputClaimToHeaders: [
          { header: 'x-ml-principal', claim: 'sub' },
          { header: 'x-ml-groups', claim: 'groups' },
        ],
      },
    ]);
  });

  it('denies requests without a request principal and paths outside the model explicitly', () => {
    const [deny, outside] = policies(manifests);
    expect(deny.spec).toEqual({
      selector: { matchLabels: podLabels },
      action: 'DENY',
      rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }] }],
    });
    expect(outside.spec!.rules).toEqual([
      { to: [{ operation: { notPaths: [A, `${A}/*`, `${A}:*`] } }] },
    ]);
  });

  it('enables access logging for the workload with the configured provider', () => {
    const custom = parseGatewayConfig({
      accessLogProvider: 'platform-json-log',
    });
    const tel = buildGatewayManifests(projectA, grants, custom)[4] as Telemetry;
    expect(tel.spec).toEqual({
      selector: { matchLabels: podLabels },
      accessLogging: [{ providers: [{ name: 'platform-json-log' }] }],
    });
  });

  it('groups match on the configured claim and value form', () => {
    const custom = parseGatewayConfig({
      ...GATEWAY_DEFAULTS,
      groupsClaim: 'roles',
      groupClaimValue: '{ref}',
    });
    const rules = allowRulesOf(buildGatewayManifests(projectA, grants, custom));
    expect(
      rules.flatMap(r =>
        r
          .when!.filter(w => w.key === 'request.auth.claims[roles]')
          .flatMap(w => w.values),
      ),
    ).toEqual(
      expect.arrayContaining([
        'group:default/risk',
        'group:default/ml-platform',
      ]),
    );
  });

  it('refuses two groups that the token claim cannot tell apart', () => {
    const g = computeGrants(POLICIES.default, projectA, {
      'group:other/risk': ['predict'],
      'group:default/risk': ['predict'],
    });
    expect(() => buildGatewayManifests(projectA, g, config)).toThrow(
      /groupClaimValue/,
    );
  });
});

describe.each(Object.keys(POLICIES))('with the %s access policy', name => {
  const policy = grantableEverything(POLICIES[name]);

  it('no ALLOW rule lacks a request principal, this audience or a group; token-less requests are refused', () => {
    const grants = computeGrants(
      policy,
      projectA,
      Object.fromEntries(
        Object.keys(policy.scopes).map(s => [
          `group:default/${s}-holders`,
          [s],
        ]),
      ),
    );
    const manifests = buildGatewayManifests(projectA, grants, config);
    const rules = allowRulesOf(manifests);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.from).toEqual([
        { source: { requestPrincipals: ['https://idp.dev.localhost/*'] } },
      ]);
      expect(rule.when).toContainEqual({
        key: 'request.auth.audiences',
        values: ['tensorflow-serving/ml-fraud-detector'],
      });
      expect(groupsIn(rule).length).toBe(1);
      for (const { operation } of rule.to!) {
        for (const p of operation!.paths!) {
          expect(
            simulateRequest(
              manifests,
              request(
                operation!.methods![0],
                p.replace(/^\*/, A).replace('{*}', '1'),
              ),
            ),
          ).toMatchObject({
            allowed: false,
            reason: 'denied by fraud-detector-deny-anonymous',
          });
        }
      }
    }
  });

  it.each(Object.keys(POLICIES[name].scopes))(
    'scope %s yields exactly its routes and methods',
    scope => {
      const grants = computeGrants(policy, projectA, { [PROBE]: [scope] });
      const manifests = buildGatewayManifests(projectA, grants, config);
      const expected: Record<string, Set<string>> = {};
      for (const route of policy.scopes[scope].gateway.routes) {
        for (const m of route.methods)
          for (const p of route.paths)
            istioPathsForRoute(projectA, `${A}${p}`).forEach(x =>
              (expected[m] ??= new Set()).add(x),
            );
      }
      expect(routesFor(manifests, 'probe')).toEqual(
        Object.fromEntries(
          Object.entries(expected).map(([m, s]) => [m, [...s].sort()]),
        ),
      );
    },
  );

  it('a group without data-plane scopes is in no rule', () => {
    const noRoutes = Object.keys(policy.scopes).filter(
      s => policy.scopes[s].gateway.routes.length === 0,
    );
    // A grant row must name a scope (refused otherwise); nobody is not granted at all.
    expect(() =>
      computeGrants(policy, projectA, { 'group:default/nobody': [] }),
    ).toThrow(/no scope chosen/);
    const grants = computeGrants(
      policy,
      projectA,
      noRoutes.length > 0 ? { [PROBE]: noRoutes } : {},
    );
    const manifests = buildGatewayManifests(projectA, grants, config);
    for (const rule of allowRulesOf(manifests)) {
      expect(groupsIn(rule)).not.toContain('nobody');
      expect(groupsIn(rule)).not.toContain('probe');
    }
    expect(
      simulateRequest(
        manifests,
        request('POST', `${A}:predict`, ['nobody', 'probe']),
      ),
    ).toMatchObject({ allowed: false, status: 403 });
  });
});

describe('routes as Istio matches them', () => {
  it('expands the default scopes to explicit, version and label paths', () => {
    const grants = computeGrants(POLICIES.default, projectA, {
      'group:default/risk': ['predict'],
      'group:default/audit': ['read-metadata'],
    });
    const manifests = buildGatewayManifests(projectA, grants, config);
    expect(routesFor(manifests, 'risk')).toEqual({
      POST: [
        '*:classify',
        '*:predict',
        '*:regress',
        `${A}:classify`,
        `${A}:predict`,
        `${A}:regress`,
      ],
    });
    expect(routesFor(manifests, 'audit')).toEqual({
      GET: [
        A,
        `${A}/labels/{*}`,
        `${A}/labels/{*}/metadata`,
        `${A}/metadata`,
        `${A}/versions/{*}`,
        `${A}/versions/{*}/metadata`,
      ],
    });
    // The owner's admin scope carries both route sets under the default policy ("unless the policy says so").
    expect(Object.keys(routesFor(manifests, 'ml-platform')).sort()).toEqual([
      'GET',
      'POST',
    ]);
  });

  it('admits exactly the granted calls (simulated sidecar)', () => {
    const grants = computeGrants(POLICIES.split, projectA, {
      'group:default/risk': ['predict'],
      'group:default/ops': ['deploy'],
    });
    const manifests = buildGatewayManifests(projectA, grants, config);
    const risk = (method: string, path: string) =>
      simulateRequest(manifests, request(method, path, ['risk'])).allowed;
    expect(risk('POST', `${A}:predict`)).toBe(true);
    expect(risk('POST', `${A}/versions/3:predict`)).toBe(true);
    expect(risk('POST', `${A}/labels/stable:predict`)).toBe(true);
    expect(risk('POST', `${A}:classify`)).toBe(false);
    expect(risk('POST', `${A}/versions/3:classify`)).toBe(false);
    expect(risk('POST', `${A}/versions/3:CLASSIFY`)).toBe(false);
    expect(risk('POST', `${A}/versions/3:classify?x=:predict`)).toBe(false);
    expect(risk('GET', `${A}/metadata`)).toBe(false);
    expect(risk('GET', `${A}:predict`)).toBe(false);
    expect(risk('POST', '/tensorflow.serving.PredictionService/Predict')).toBe(
      false,
    );
    const ops = (method: string, path: string) =>
      simulateRequest(manifests, request(method, path, ['ops'])).allowed;
    expect(ops('GET', A)).toBe(true);
    expect(ops('GET', `${A}/versions/2`)).toBe(true);
    expect(ops('GET', `${A}/versions/2/metadata`)).toBe(false);
    expect(ops('POST', `${A}:predict`)).toBe(false);
  });

  it('refuses routes it cannot express safely', () => {
    expect(() =>
      istioPathsForRoute(projectA, '/v1/models/other:predict'),
    ).toThrow(/not under the model base path/);
    expect(() => istioPathsForRoute(projectA, `${A}/*`)).toThrow(
      /must not contain/,
    );
    expect(() => istioPathsForRoute(projectA, `${A}:predict/x`)).toThrow(
      /single verb/,
    );
  });

  it('with no data-plane grants at all the ALLOW policy has no rules and allows nothing', () => {
    const grants = computeGrants(POLICIES.narrow, projectA, {});
    const manifests = buildGatewayManifests(projectA, grants, config);
    expect(policies(manifests)[2].spec).toEqual({
      selector: { matchLabels: podLabels },
      action: 'ALLOW',
    });
    expect(
      simulateRequest(
        manifests,
        request('GET', `${A}/metadata`, ['ml-platform']),
      ),
    ).toMatchObject({ allowed: false, reason: 'no ALLOW rule matched' });
  });
});
