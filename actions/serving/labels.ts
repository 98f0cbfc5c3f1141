/** Labels, selector and ports shared by every serving manifest (and by the gateway's policies, through the selector). */
import { createHash } from 'node:crypto';
import { KUBERNETES_ID, kubernetesId } from '../shared/kubernetesId';
import type { ModelProject } from '../shared/naming';
import { modelServerSelector } from '../shared/servingSelector';
import type { ServingSpec } from './request';

export const LABEL_PREFIX = 'ml-platform.io';
export const OWNER_REF_ANNOTATION = `${LABEL_PREFIX}/owner-ref`;
export const REST_PORT = 8501;
export const GRPC_PORT = 8500;
export const KSERVE_REST_PORT = 8080;
export const CONFIG_DIR = '/etc/tfserving';
export const METRICS_PATH = '/monitoring/prometheus/metrics';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Encodes an entity ref as a label value (≤ 63 chars, [A-Za-z0-9_.-], alphanumeric at both ends):
 * `group:default/ml-platform` -> `group.default.ml-platform`; too long or odd refs get a
 * truncated prefix plus a hash. The full ref is kept in the `ml-platform.io/owner-ref` annotation.
 */
export function ownerLabelValue(ref: string): string {
  const simple = ref.replace(/[:/]/g, '.');
  if (simple.length <= 63 && LABEL_VALUE.test(simple)) return simple;
  const hash = createHash('sha256').update(ref).digest('hex').slice(0, 10);
  const head = simple
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 52)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  return head ? `${head}-${hash}` : hash;
}

export function projectLabels(
  project: ModelProject,
  spec: ServingSpec,
): Record<string, string> {
  return {
    'app.kubernetes.io/part-of': project.name,
    'app.kubernetes.io/managed-by': 'backstage-scaffolder',
    [`${LABEL_PREFIX}/project`]: project.name,
    [`${LABEL_PREFIX}/owner`]: ownerLabelValue(project.owner),
    [`${LABEL_PREFIX}/environment`]: spec.environment,
    // Backstage's Kubernetes plugin finds every object (pods through the pod template) by this label.
    [KUBERNETES_ID]: kubernetesId(project),
  };
}

/** Labels that select the model server's pods. */
export function serverSelector(
  project: ModelProject,
  spec: ServingSpec,
): Record<string, string> {
  return modelServerSelector(project, spec.runtime);
}
