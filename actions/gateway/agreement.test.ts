import { computeGrants } from '../access/grants';
import { GATEWAY_DEFAULTS } from './config';
import {
  POLICIES,
  grantableEverything,
  projectA,
} from '../../test/support/gateway/fixtures';
import { buildGatewayManifests, istioPathsForRoute } from './manifests';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';

/**
 * One mapping everywhere: the access policy's computeGrants (actions/access/grants.ts)
 * feeds Kubernetes RBAC, GitHub and these gateway rules; a scope must mean the same on all three.
 */
const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const RISK = 'group:default/risk';
const A = `/v1/models/${projectA.name}`;

function gatewayRulesFor(name: string, claim: string) {
  const grants = computeGrants(grantableEverything(POLICIES[name]), projectA, {
    [RISK]: ['predict'],
  });
  const allow = buildGatewayManifests(projectA, grants, GATEWAY_DEFAULTS).find(
    (m): m is AuthorizationPolicy =>
      m.kind === 'AuthorizationPolicy' && m.spec!.action === 'ALLOW',
  )!;
  return {
    grants,
    rules: (allow.spec!.rules ?? []).filter(r =>
      r.when!.some(w => (w.values ?? []).includes(claim)),
    ),
  };
}

describe.each(Object.keys(POLICIES))(
  'a group granted only predict, %s policy',
  name => {
    const { grants, rules } = gatewayRulesFor(name, 'risk');

    it('gets no Kubernetes write', () => {
      for (const role of grants.kubernetes.filter(k =>
        k.groups.includes(RISK),
      )) {
        for (const rule of role.rules)
          expect(rule.verbs.filter(v => WRITE_VERBS.includes(v))).toEqual([]);
      }
    });

    it("gets GitHub 'pull' or nothing", () => {
      const gh = grants.github.find(g => g.group === RISK);
      expect(gh === undefined || gh.permission === 'pull').toBe(true);
    });

    it('gets exactly the predict routes at the gateway', () => {
      const expected = POLICIES[name].scopes.predict.gateway.routes.flatMap(r =>
        r.methods.flatMap(m =>
          r.paths.flatMap(p =>
            istioPathsForRoute(projectA, `${A}${p}`).map(x => `${m} ${x}`),
          ),
        ),
      );
      const actual = rules.flatMap(r =>
        r.to!.flatMap(t =>
          t.operation!.methods!.flatMap(m =>
            t.operation!.paths!.map(p => `${m} ${p}`),
          ),
        ),
      );
      expect(actual.sort()).toEqual([...new Set(expected)].sort());
      expect(actual).toContain(`POST ${A}:predict`);
      expect(actual.some(x => x.startsWith('GET '))).toBe(false);
    });
  },
);

describe.each(Object.keys(POLICIES))(
  'targets agree on who holds what, %s policy',
  name => {
    const policy = grantableEverything(POLICIES[name]);
    const requested = Object.fromEntries(
      Object.keys(policy.scopes).map(s => [`group:default/${s}-only`, [s]]),
    );
    const grants = computeGrants(policy, projectA, requested);
    const allow = buildGatewayManifests(
      projectA,
      grants,
      GATEWAY_DEFAULTS,
    ).find(
      (m): m is AuthorizationPolicy =>
        m.kind === 'AuthorizationPolicy' && m.spec!.action === 'ALLOW',
    )!;
    const gatewayGroups = new Set(
      (allow.spec!.rules ?? []).flatMap(r =>
        r
          .when!.filter(w => w.key === 'request.auth.claims[groups]')
          .flatMap(w => w.values!),
      ),
    );

    it('a group is in a gateway rule exactly when one of its scopes has data-plane routes', () => {
      for (const [group, scopes] of Object.entries(grants.groups)) {
        const groupName = group.split('/')[1];
        const hasRoutes = scopes.some(
          s => policy.scopes[s].gateway.routes.length > 0,
        );
        expect([group, gatewayGroups.has(groupName)]).toEqual([
          group,
          hasRoutes,
        ]);
      }
    });

    it('RBAC and GitHub follow the same scopes', () => {
      for (const [group, scopes] of Object.entries(grants.groups)) {
        const inRbac = grants.kubernetes.some(k => k.groups.includes(group));
        expect([group, inRbac]).toEqual([
          group,
          scopes.some(s => policy.scopes[s].kubernetes.rules.length > 0),
        ]);
        const gh = grants.github.find(g => g.group === group);
        expect([group, gh !== undefined]).toEqual([
          group,
          scopes.some(s => policy.scopes[s].github.permission !== 'none'),
        ]);
      }
    });
  },
);
