import { lintRoleRules, type RbacRule } from '../access/rbacRules';
import { TOKEN_MAX_SECONDS, TOKEN_MIN_SECONDS } from './config';

export interface LintFinding {
  rule: string;
  /** `Kind namespace/name` of the offending object. */
  resource: string;
  message: string;
}

export interface LintOptions {
  /**
   * Require a default-deny NetworkPolicy in every namespace the manifests use.
   * Turn on when linting the full project (serving + identity); the identity
   * action alone carries no NetworkPolicy.
   */
  requireDefaultDeny?: boolean;
}

type Obj = Record<string, any>;
const WILDCARD = /[*?]/;
const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
function arr(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v === undefined ? [] : [v];
}

function id(m: Obj): string {
  const ns = m.metadata?.namespace;
  return `${m.kind ?? '?'} ${ns ? `${ns}/` : ''}${m.metadata?.name ?? '?'}`;
}

function lintTrustPolicy(
  resource: string,
  doc: unknown,
  push: (rule: string, message: string) => void,
) {
  let policy: Obj;
  try {
    policy = typeof doc === 'string' ? JSON.parse(doc) : (doc as Obj);
  } catch {
    push('trust-policy-json', 'assumeRolePolicyDocument is not valid JSON');
    return;
  }
  const statements = arr(policy?.Statement);
  if (statements.length === 0)
    push('trust-policy-empty', 'trust policy has no statement');
  statements.forEach((raw, i) => {
    const st = raw as Obj;
    if (st.Effect !== 'Allow') return;
    const cond: Obj = isObj(st.Condition) ? st.Condition : {};
    const equals: Obj = isObj(cond.StringEquals) ? cond.StringEquals : {};
    for (const op of Object.keys(cond)) {
      if (/Like$/.test(op))
        push(
          'trust-no-wildcard',
          `statement ${i}: uses ${op}; only exact StringEquals conditions are allowed`,
        );
    }
    const federated = arr(st.Principal?.Federated) as string[];
    const services = arr(st.Principal?.Service) as string[];
    if (st.Principal === '*' || st.Principal?.AWS === '*')
      push('trust-no-wildcard', `statement ${i}: principal is "*"`);
    for (const fed of federated) {
      const host = String(fed).replace(
        /^arn:aws[a-z-]*:iam::\d+:oidc-provider\//,
        '',
      );
      const sub = equals[`${host}:sub`];
      const aud = equals[`${host}:aud`];
      if (sub === undefined || arr(sub).length === 0) {
        push(
          'trust-exact-subject',
          `statement ${i}: federated principal ${host} has no StringEquals condition on ${host}:sub`,
        );
      } else if (
        arr(sub).some(
          s => typeof s !== 'string' || WILDCARD.test(s) || s === '',
        )
      ) {
        push(
          'trust-exact-subject',
          `statement ${i}: ${host}:sub must be exact values, without "*" or "?"`,
        );
      }
      if (
        aud === undefined ||
        arr(aud).some(
          a => typeof a !== 'string' || WILDCARD.test(a) || a === '',
        )
      ) {
        push(
          'trust-audience',
          `statement ${i}: federated principal ${host} needs an exact StringEquals condition on ${host}:aud`,
        );
      }
    }
    for (const svc of services) {
      if (svc === 'pods.eks.amazonaws.com') {
        for (const key of [
          'aws:RequestTag/kubernetes-namespace',
          'aws:RequestTag/kubernetes-service-account',
        ]) {
          const v = equals[key];
          if (typeof v !== 'string' || WILDCARD.test(v) || v === '') {
            push(
              'trust-exact-subject',
              `statement ${i}: Pod Identity trust needs an exact StringEquals condition on ${key}`,
            );
          }
        }
      }
    }
  });
  void resource;
}

function lintPodSpec(
  spec: Obj | undefined,
  push: (rule: string, message: string) => void,
) {
  for (const v of arr(spec?.volumes) as Obj[]) {
    for (const src of arr(v?.projected?.sources) as Obj[]) {
      const t = src?.serviceAccountToken;
      if (!t) continue;
      const exp = t.expirationSeconds ?? 3600;
      if (
        typeof exp !== 'number' ||
        exp < TOKEN_MIN_SECONDS ||
        exp > TOKEN_MAX_SECONDS
      ) {
        push(
          'token-lifetime',
          `volume ${v.name}: expirationSeconds ${exp} is outside ${TOKEN_MIN_SECONDS}..${TOKEN_MAX_SECONDS}`,
        );
      }
      if (!t.audience)
        push(
          'token-audience',
          `volume ${v.name}: projected service account token has no audience`,
        );
    }
  }
  if (spec && spec.automountServiceAccountToken === true) {
    push(
      'no-automount',
      'pod spec sets automountServiceAccountToken: true; mount a projected token instead',
    );
  }
}

function isDefaultDeny(m: Obj): boolean {
  const spec = m.spec ?? {};
  const selectsAll =
    isObj(spec.podSelector) &&
    Object.keys(spec.podSelector).every(k => {
      const v = spec.podSelector[k];
      return (
        (Array.isArray(v) && v.length === 0) ||
        (isObj(v) && Object.keys(v).length === 0)
      );
    });
  const types = arr(spec.policyTypes);
  return (
    selectsAll &&
    types.includes('Ingress') &&
    types.includes('Egress') &&
    arr(spec.ingress).length === 0 &&
    arr(spec.egress).length === 0
  );
}

/**
 * Lints a project's full manifest list (identity, and serving when given):
 * exact trust subjects and audiences, token lifetimes, no cluster-wide RBAC,
 * no token minting, no automounted tokens, default-deny per namespace.
 */
export function lintManifests(
  manifests: unknown[],
  options: LintOptions = {},
): LintFinding[] {
  const findings: LintFinding[] = [];
  const namespaces = new Set<string>();
  const denied = new Set<string>();
  for (const raw of manifests) {
    if (!isObj(raw)) continue;
    const m = raw;
    const resource = id(m);
    const push = (rule: string, message: string) =>
      findings.push({ rule, resource, message: `${resource}: ${message}` });
    const ns: string | undefined = m.metadata?.namespace;
    if (ns) namespaces.add(ns);
    const group = String(m.apiVersion ?? '').split('/')[0];
    switch (`${group}|${m.kind}`) {
      case 'rbac.authorization.k8s.io|ClusterRole':
      case 'rbac.authorization.k8s.io|ClusterRoleBinding':
        push(
          'no-cluster-role',
          `${m.kind} is never generated; use a Role and RoleBinding in the project namespace`,
        );
        break;
      case 'rbac.authorization.k8s.io|Role':
        (arr(m.rules) as Obj[]).forEach((r, i) => {
          const resources = arr(r.resources) as string[];
          const verbs = arr(r.verbs) as string[];
          if (resources.includes('serviceaccounts/token'))
            push(
              'no-token-minting',
              `rule ${i} grants serviceaccounts/token, which lets a subject mint tokens`,
            );
          if (
            resources.includes('*') ||
            verbs.includes('*') ||
            arr(r.apiGroups).includes('*')
          )
            push(
              'no-wildcard-rbac',
              `rule ${i} uses "*"; list apiGroups, resources and verbs`,
            );
          for (const v of ['escalate', 'bind', 'impersonate'])
            if (verbs.includes(v))
              push('no-escalation', `rule ${i} grants the "${v}" verb`);
        });
        for (const f of lintRoleRules(arr(m.rules) as RbacRule[]))
          push(f.rule, f.message);
        break;
      case 'rbac.authorization.k8s.io|RoleBinding':
        if (m.roleRef?.kind !== 'Role')
          push(
            'no-cluster-role',
            `roleRef.kind is ${m.roleRef?.kind}; bind a Role in the namespace`,
          );
        for (const s of arr(m.subjects) as Obj[]) {
          if (
            s.kind === 'Group' &&
            /^system:(authenticated|unauthenticated|serviceaccounts)$/.test(
              String(s.name),
            )
          ) {
            push('no-broad-subject', `subject group ${s.name} covers everyone`);
          }
        }
        break;
      case '|ServiceAccount':
      case 'v1|ServiceAccount':
        if (m.automountServiceAccountToken !== false)
          push('no-automount', 'automountServiceAccountToken must be false');
        break;
      case 'iam.services.k8s.aws|Role':
        lintTrustPolicy(resource, m.spec?.assumeRolePolicyDocument, push);
        break;
      case 'iam.cnrm.cloud.google.com|IAMPolicyMember': {
        const member = String(m.spec?.member ?? '');
        if (
          member.startsWith('principalSet://') ||
          WILDCARD.test(member) ||
          member === 'allUsers' ||
          member === 'allAuthenticatedUsers'
        ) {
          push(
            'trust-exact-subject',
            `member "${member}" is not one exact principal`,
          );
        }
        break;
      }
      case 'iam.cnrm.cloud.google.com|IAMWorkloadIdentityPoolProvider': {
        const condition = String(m.spec?.attributeCondition ?? '');
        if (
          !/assertion\.repository_id == '\d+'/.test(condition) ||
          !/assertion\.repository_owner_id == '\d+'/.test(condition)
        ) {
          push(
            'trust-exact-subject',
            'attributeCondition must pin assertion.repository_id and assertion.repository_owner_id to numeric ids',
          );
        }
        if (arr(m.spec?.oidc?.allowedAudiences).length === 0)
          push(
            'trust-audience',
            'oidc.allowedAudiences must name the audience',
          );
        break;
      }
      case 'networking.k8s.io|NetworkPolicy':
        if (ns && isDefaultDeny(m)) denied.add(ns);
        break;
      default:
        break;
    }
    const podSpec =
      m.kind === 'Pod'
        ? m.spec
        : (m.spec?.template?.spec ?? m.spec?.jobTemplate?.spec?.template?.spec);
    if (podSpec) lintPodSpec(podSpec, push);
  }
  if (options.requireDefaultDeny) {
    for (const ns of [...namespaces].sort()) {
      if (!denied.has(ns)) {
        findings.push({
          rule: 'default-deny',
          resource: `Namespace ${ns}`,
          message: `Namespace ${ns}: no default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress], no rules)`,
        });
      }
    }
  }
  return findings;
}
