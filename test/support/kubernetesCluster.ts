import { createBackendModule } from '@backstage/backend-plugin-api';
import { kubernetesFetcherExtensionPoint } from '@backstage/plugin-kubernetes-node';

/** One parsed requirement of a Kubernetes label selector (`kubectl --selector` syntax). */
type Requirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] };

/**
 * Parses a label selector: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`,
 * joined by commas (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/).
 * Throws on anything else, so an unexpected selector fails the test instead of matching nothing.
 */
export function parseLabelSelector(selector: string): Requirement[] {
  const parts = selector.match(/[^,(]+(\([^)]*\))?[^,]*/g) ?? [];
  return parts.map(raw => {
    const part = raw.trim();
    let m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
    if (m)
      return { key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] };
    m = /^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m)
      return {
        key: m[1],
        op: m[2] as 'in' | 'notin',
        values: m[3].split(',').map(v => v.trim()),
      };
    m = /^(!?)([\w./-]+)$/.exec(part);
    if (m) return { key: m[2], op: m[1] ? 'notexists' : 'exists' };
    throw new Error(`label selector "${selector}": cannot parse "${part}"`);
  });
}

export function matchesSelector(
  requirements: Requirement[],
  labels: Record<string, string> = {},
): boolean {
  return requirements.every(r => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]);
      default:
        return false;
    }
  });
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: any;
  [k: string]: unknown;
}

function plural(kind: string): string {
  const lower = kind.toLocaleLowerCase('en-US');
  return lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
}
const groupOf = (apiVersion: string) =>
  apiVersion.includes('/') ? apiVersion.split('/')[0] : '';

/**
 * What a cluster holds after the manifests are applied, as far as labels go: the objects
 * themselves, plus the ReplicaSet and Pods a Deployment's pod template produces, and the
 * predictor Pods KServe creates for an InferenceService (labelled with `spec.predictor.labels`,
 * KServe's ComponentExtensionSpec.labels, plus its own `serving.kserve.io/inferenceservice`).
 */
export function clusterObjects(manifests: K8sObject[]): K8sObject[] {
  const out: K8sObject[] = [...manifests];
  for (const m of manifests) {
    if (m.kind === 'Deployment') {
      const template = m.spec.template;
      out.push({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${m.metadata.name}-1`,
          namespace: m.metadata.namespace,
          labels: template.metadata.labels,
        },
      });
      for (let i = 0; i < m.spec.replicas; i++) {
        out.push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${m.metadata.name}-1-${i}`,
            namespace: m.metadata.namespace,
            labels: template.metadata.labels,
          },
          spec: template.spec,
        });
      }
    }
    if (m.kind === 'InferenceService') {
      for (let i = 0; i < m.spec.predictor.minReplicas; i++) {
        out.push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${m.metadata.name}-predictor-${i}`,
            namespace: m.metadata.namespace,
            labels: {
              ...m.spec.predictor.labels,
              'serving.kserve.io/inferenceservice': m.metadata.name,
            },
          },
          spec: {
            containers: [
              {
                name: 'kserve-container',
                readinessProbe: m.spec.predictor.model.readinessProbe,
              },
            ],
          },
        });
      }
    }
  }
  return out;
}

export interface FetchCall {
  serviceId: string;
  labelSelector: string;
  namespace?: string;
}

/**
 * A KubernetesFetcher over an in-memory cluster (no cluster runs here): the Kubernetes
 * backend decides the selector and namespace; this lists, per object type it asks for,
 * the objects that selector matches, as the API server's label-selector list would.
 */
export class InMemoryCluster {
  objects: K8sObject[] = [];
  readonly calls: FetchCall[] = [];

  module() {
    // arrow functions down to the fetcher, so `this` is the cluster
    return createBackendModule({
      pluginId: 'kubernetes',
      moduleId: 'in-memory-cluster',
      register: reg => {
        reg.registerInit({
          deps: { fetcher: kubernetesFetcherExtensionPoint },
          init: async ({ fetcher }) => {
            fetcher.addFetcher({
              fetchObjectsForService: async (params: any) => {
                this.calls.push({
                  serviceId: params.serviceId,
                  labelSelector: params.labelSelector,
                  namespace: params.namespace,
                });
                const requirements = parseLabelSelector(params.labelSelector);
                const types = [
                  ...[...params.objectTypesToFetch].map((t: any) => ({ ...t })),
                  ...(params.customResources ?? []).map((c: any) => ({
                    ...c,
                    objectType: 'customresources',
                  })),
                ];
                return {
                  errors: [],
                  responses: types.map(t => ({
                    type: t.objectType,
                    resources: this.objects.filter(
                      o =>
                        plural(o.kind) === t.plural &&
                        groupOf(o.apiVersion) === t.group &&
                        o.metadata.namespace !== undefined &&
                        (!params.namespace ||
                          o.metadata.namespace === params.namespace) &&
                        matchesSelector(requirements, o.metadata.labels),
                    ),
                  })),
                };
              },
              async fetchPodMetricsByNamespaces() {
                return { errors: [], responses: [] };
              },
            } as any);
          },
        });
      },
    });
  }
}
