import { DEFAULT_PATH_TEMPLATE, ownedPathPattern } from '../gitops/config';
import { manifestFiles } from '../gitops/manifests';
import type { GitOpsFile } from '../gitops/types';
import type { ModelProject } from '../shared/naming';
import type { ServingManifest } from './manifests';

export const SERVING_AREA = 'serving';

/** One file per serving resource under the repository's path layout, sorted by path. */
export function servingManifestFiles(
  manifests: ServingManifest[],
  project: ModelProject,
  pathTemplate: string = DEFAULT_PATH_TEMPLATE,
): GitOpsFile[] {
  return manifestFiles(manifests, project, SERVING_AREA, pathTemplate);
}

export function servingOwnedPaths(
  project: ModelProject,
  pathTemplate: string = DEFAULT_PATH_TEMPLATE,
): RegExp {
  return ownedPathPattern(pathTemplate, {
    namespace: project.namespace,
    project: project.name,
    area: SERVING_AREA,
  });
}
