import type { ModelProject } from '../shared/naming';
import type { ServingSpec } from './request';

/**
 * What "Ready" asks TF Serving. `GET /v1/models/<name>` is 200 as soon as any version is known to
 * the server, whatever its state (START, LOADING, END after a failed load); `…/metadata` goes
 * through GetServableHandle, which only finds AVAILABLE versions, else 404. With pinned versions
 * the probe asks for the highest one (the one an unversioned request should reach); otherwise for
 * the latest AVAILABLE version, i.e. at least one version is loaded.
 */
export function readinessPath(
  project: ModelProject,
  spec: ServingSpec,
): string {
  const base = `/v1/models/${project.name}`;
  const policy = spec.versionPolicy;
  return policy.kind === 'specific' && policy.versions.length > 0
    ? `${base}/versions/${Math.max(...policy.versions)}/metadata`
    : `${base}/metadata`;
}
