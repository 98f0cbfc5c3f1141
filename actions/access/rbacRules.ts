export interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

/** Subresources that open a shell, a stream or a tunnel into a running pod (or through the API server). */
const POD_ACCESS = [
  'pods/exec',
  'pods/attach',
  'pods/portforward',
  'pods/ephemeralcontainers',
  'pods/proxy',
  'services/proxy',
  'nodes/proxy',
];
/**
 * Resources whose create/update/patch starts pods from a pod template. RBAC cannot restrict which Secrets a
 * pod template mounts (or which service account it runs as), so writing one lets the writer read every
 * Secret in the namespace through the pod.
 */
const WORKLOADS = [
  'pods',
  'deployments',
  'replicasets',
  'statefulsets',
  'daemonsets',
  'jobs',
  'cronjobs',
  'replicationcontrollers',
  'podtemplates',
  'inferenceservices',
  'servingruntimes',
];
const WORKLOAD_WRITE_VERBS = ['create', 'update', 'patch'];

/**
 * Findings for the rules of one Role granted to people: no pod shells, tunnels or ephemeral containers,
 * no scaling, and no writing workloads unless the Role may read every Secret those workloads could mount.
 * Shared with the access policy, which refuses such scopes at start-up.
 */
export function lintRoleRules(
  rules: RbacRule[],
): Array<{ rule: string; message: string }> {
  const out: Array<{ rule: string; message: string }> = [];
  const readsAllSecrets = rules.some(
    r =>
      (r.resources ?? []).includes('secrets') &&
      (r.verbs ?? []).includes('get') &&
      (r.resourceNames ?? []).length === 0,
  );
  rules.forEach((r, i) => {
    const resources = r.resources ?? [];
    const verbs = r.verbs ?? [];
    for (const res of resources) {
      if (POD_ACCESS.includes(res))
        out.push({
          rule: 'no-pod-access',
          message: `rule ${i} grants ${res}, which opens a shell, stream or tunnel into pods`,
        });
      if (res.endsWith('/scale'))
        out.push({
          rule: 'no-scale',
          message: `rule ${i} grants ${res}; replicas come from the GitOps change`,
        });
      const writes = verbs.filter(v => WORKLOAD_WRITE_VERBS.includes(v));
      if (WORKLOADS.includes(res) && writes.length > 0 && !readsAllSecrets) {
        out.push({
          rule: 'no-workload-write',
          message: `rule ${i} grants ${writes.join('/')} on ${res}: a pod template can mount any Secret in the namespace, which this role cannot read; change workloads through the GitOps change`,
        });
      }
    }
  });
  return out;
}
