import { stringify } from 'yaml';
import type { ModelProject } from '../shared/naming';
import { comparePaths } from '../shared/sort';
import { DEFAULT_PATH_TEMPLATE, renderGitOpsPath } from './config';
import type { GitOpsFile } from './types';

/** A Kubernetes-style object: kubernetes-models instances or plain objects. */
export interface ManifestLike {
  kind: string;
  metadata?: { name?: string };
}

function plain(manifest: ManifestLike): Record<string, unknown> {
  const withJson = manifest as { toJSON?: () => unknown };
  return JSON.parse(
    JSON.stringify(
      typeof withJson.toJSON === 'function' ? withJson.toJSON() : manifest,
    ),
  );
}

/** Serialises one manifest at the edge: sorted keys (stable diffs), no anchors, plain block style. */
export function manifestYaml(manifest: ManifestLike): string {
  return stringify(plain(manifest), {
    sortMapEntries: true,
    aliasDuplicateObjects: false,
    lineWidth: 0,
  });
}

/** One file per resource under the repository's path layout for one area of a project, sorted by path. */
export function manifestFiles(
  manifests: ManifestLike[],
  project: ModelProject,
  area: string,
  pathTemplate: string = DEFAULT_PATH_TEMPLATE,
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
    .sort(comparePaths);
}
