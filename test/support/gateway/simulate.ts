import type { GatewayManifest } from '../../../actions/gateway/manifests';

/**
 * A small model of how an Istio sidecar evaluates the policies we generate, for
 * tests: RequestAuthentication (issuer, audiences) then AuthorizationPolicy
 * (DENY first, then ALLOW; an ALLOW policy present means deny unless one matches).
 * String matching follows Istio's StringMatcherWithPrefix: "*" = present,
 * "*x" suffix, "x*" prefix, otherwise exact; paths with {*} / {**} are Envoy URI
 * templates; paths are matched without the query string. Fields this model does
 * not know make it throw, so it never silently ignores part of a policy.
 */
export interface SimulatedToken {
  iss: string;
  sub: string;
  aud: string[];
  claims?: Record<string, string | string[]>;
}

export interface SimulatedRequest {
  namespace: string;
  workloadLabels: Record<string, string>;
  method: string;
  path: string;
  token?: SimulatedToken;
}

export type SimulatedDecision =
  { allowed: true } | { allowed: false; status: 401 | 403; reason: string };

interface Identity {
  principal?: string;
  audiences: string[];
  claims: Record<string, string | string[]>;
}

function selects(m: GatewayManifest, req: SimulatedRequest): boolean {
  if (m.metadata?.namespace !== req.namespace) return false;
  const labels =
    (
      m.spec as
        { selector?: { matchLabels?: Record<string, string> } } | undefined
    )?.selector?.matchLabels ?? {};
  return Object.entries(labels).every(([k, v]) => req.workloadLabels[k] === v);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Istio's path template operators as regular expressions: `{*}` one segment, `{**}` any rest. */
const PATH_TEMPLATE_PARTS: Record<string, string> = {
  '{*}': '[^/]+',
  '{**}': '.*',
};

export function istioStringMatch(
  pattern: string,
  value: string | undefined,
  isPath = false,
): boolean {
  if (value === undefined || value === '') return false;
  if (pattern === '*') return true;
  if (isPath && /\{\*\*?\}/.test(pattern)) {
    const source = pattern
      .split(/(\{\*\*?\})/)
      .map(part => PATH_TEMPLATE_PARTS[part] ?? escape(part))
      .join('');
    return new RegExp(`^${source}$`).test(value);
  }
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}

const anyMatch = (
  patterns: string[],
  values: Array<string | undefined>,
  isPath = false,
) => patterns.some(p => values.some(v => istioStringMatch(p, v, isPath)));

function known(obj: object, keys: string[], where: string): void {
  for (const k of Object.keys(obj))
    if (!keys.includes(k))
      throw new Error(`simulator does not model ${where}.${k}`);
}

function claimValues(id: Identity, key: string): string[] | undefined {
  if (key === 'request.auth.audiences') return id.audiences;
  if (key === 'request.auth.principal')
    return id.principal ? [id.principal] : [];
  const m = /^request\.auth\.claims\[([^\]]+)\]$/.exec(key);
  if (m) {
    const v = id.claims[m[1]];
    if (v === undefined) return [];
    return Array.isArray(v) ? v : [v];
  }
  return undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ruleMatches(
  rule: any,
  req: SimulatedRequest,
  id: Identity,
  urlPath: string,
): boolean {
  known(rule, ['from', 'to', 'when'], 'rule');
  const from = (rule.from ?? []) as Array<{ source: Record<string, string[]> }>;
  const fromOk =
    from.length === 0 ||
    from.some(({ source }) => {
      known(source, ['requestPrincipals', 'notRequestPrincipals'], 'source');
      if (
        source.requestPrincipals &&
        !anyMatch(source.requestPrincipals, [id.principal])
      )
        return false;
      if (
        source.notRequestPrincipals &&
        anyMatch(source.notRequestPrincipals, [id.principal])
      )
        return false;
      return true;
    });
  const to = (rule.to ?? []) as Array<{ operation: Record<string, string[]> }>;
  const toOk =
    to.length === 0 ||
    to.some(({ operation }) => {
      known(operation, ['methods', 'paths', 'notPaths'], 'operation');
      if (operation.methods && !operation.methods.includes(req.method))
        return false;
      if (operation.paths && !anyMatch(operation.paths, [urlPath], true))
        return false;
      if (operation.notPaths && anyMatch(operation.notPaths, [urlPath], true))
        return false;
      return true;
    });
  const when = (rule.when ?? []) as Array<{
    key: string;
    values?: string[];
    notValues?: string[];
  }>;
  const whenOk = when.every(c => {
    known(c, ['key', 'values', 'notValues'], 'when');
    const values = claimValues(id, c.key);
    if (values === undefined)
      throw new Error(`simulator does not model when.key ${c.key}`);
    if (c.values && !anyMatch(c.values, values)) return false;
    if (c.notValues && anyMatch(c.notValues, values)) return false;
    return true;
  });
  return fromOk && toOk && whenOk;
}

export function simulateRequest(
  manifests: GatewayManifest[],
  req: SimulatedRequest,
): SimulatedDecision {
  const applicable = manifests.filter(m => selects(m, req));
  const id: Identity = { audiences: [], claims: {} };
  if (req.token) {
    const rules = applicable
      .filter(m => m.kind === 'RequestAuthentication')
      .flatMap(
        m =>
          (
            m.spec as {
              jwtRules?: Array<{ issuer?: string; audiences?: string[] }>;
            }
          ).jwtRules ?? [],
      );
    if (rules.length > 0) {
      const rule = rules.find(r => r.issuer === req.token!.iss);
      if (!rule)
        return {
          allowed: false,
          status: 401,
          reason: 'Jwt issuer is not configured',
        };
      if (
        rule.audiences &&
        rule.audiences.length > 0 &&
        !req.token.aud.some(a => rule.audiences!.includes(a))
      ) {
        return {
          allowed: false,
          status: 401,
          reason: 'Audiences in Jwt are not allowed',
        };
      }
      id.principal = `${req.token.iss}/${req.token.sub}`;
      id.audiences = req.token.aud;
      id.claims = req.token.claims ?? {};
    }
  }
  const urlPath = req.path.split('?')[0].split('#')[0];
  const policies = applicable.filter(m => m.kind === 'AuthorizationPolicy');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const spec = (m: GatewayManifest) => m.spec as any;
  for (const p of policies) {
    if (!['ALLOW', 'DENY', undefined].includes(spec(p).action))
      throw new Error(`simulator does not model action ${spec(p).action}`);
  }
  for (const p of policies.filter(m => spec(m).action === 'DENY')) {
    if (
      (spec(p).rules ?? []).some((r: unknown) =>
        ruleMatches(r, req, id, urlPath),
      )
    ) {
      return {
        allowed: false,
        status: 403,
        reason: `denied by ${p.metadata!.name}`,
      };
    }
  }
  const allows = policies.filter(m => (spec(m).action ?? 'ALLOW') === 'ALLOW');
  if (allows.length === 0) return { allowed: true };
  for (const p of allows) {
    if (
      (spec(p).rules ?? []).some((r: unknown) =>
        ruleMatches(r, req, id, urlPath),
      )
    )
      return { allowed: true };
  }
  return { allowed: false, status: 403, reason: 'no ALLOW rule matched' };
}
