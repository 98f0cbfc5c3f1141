import type { ModelProject } from './naming';

export type ServingRuntime = 'tfserving' | 'kserve';

/**
 * Labels that select a project's model server pods. Shared by the serving manifests and the
 * gateway's policies, which must select exactly the same pods.
 */
export function modelServerSelector(
  project: Pick<ModelProject, 'name'>,
  runtime: ServingRuntime,
): Record<string, string> {
  return runtime === 'kserve'
    ? { 'serving.kserve.io/inferenceservice': project.name }
    : {
        'app.kubernetes.io/name': 'tensorflow-serving',
        'app.kubernetes.io/instance': project.name,
      };
}
