import { stringify } from 'yaml';
import { DEFAULT_PATH_TEMPLATE, ownedPathPattern, renderGitOpsPath } from '../gitops/config';
import type { GitOpsFile } from '../gitops/types';
import type { ModelProject } from '../shared/naming';
import type { ServingManifest } from './manifests';

export const SERVING_AREA = 'serving';

function plain(manifest: ServingManifest): Record<string, unknown> {
  const withJson = manifest as { toJSON?: () => unknown };
  return JSON.parse(JSON.stringify(typeof withJson.toJSON === 'function' ? withJson.toJSON() : manifest));
}

/** Serialises one manifest: sorted keys (stable diffs), no anchors, plain block style. */
export function manifestYaml(manifest: ServingManifest): string {
  return stringify(plain(manifest), { sortMapEntries: true, aliasDuplicateObjects: false, lineWidth: 0 });
}

/** One file per resource under the repository's path layout, sorted by path. */
export function manifestFiles(
  manifests: ServingManifest[],
  project: ModelProject,
  pathTemplate: string = DEFAULT_PATH_TEMPLATE,
  area: string = SERVING_AREA,
): GitOpsFile[] {
  return manifests
    .map(m => ({
      path: renderGitOpsPath(pathTemplate, {
        namespace: project.namespace,
        project: project.name,
        area,
        kind: m.kind.toLowerCase(),
        name: m.metadata!.name!,
      }),
      content: manifestYaml(m),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function servingOwnedPaths(project: ModelProject, pathTemplate: string = DEFAULT_PATH_TEMPLATE): RegExp {
  return ownedPathPattern(pathTemplate, { namespace: project.namespace, project: project.name, area: SERVING_AREA });
}
