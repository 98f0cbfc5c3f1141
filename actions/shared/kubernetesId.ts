import type { ModelProject } from './naming';

/**
 * Backstage's Kubernetes plugin lists a catalog entity's objects with the label selector
 * `backstage.io/kubernetes-id=<id>`, where `<id>` is the entity's annotation of the same
 * name (plugins/kubernetes-backend, KubernetesFanOutHandler). The entities carry the
 * annotation and every serving object carries the label, with this one value.
 */
export const KUBERNETES_ID = 'backstage.io/kubernetes-id';

/** The project name: a DNS-1123 label, so always a valid label value (≤ 63 characters). */
export function kubernetesId(project: Pick<ModelProject, 'name'>): string {
  return project.name;
}
