import type { ProjectGrants } from '../access/grants';
import type { ModelProject } from '../shared/naming';
import type { GatewayConfig } from './config';
import { fillPlaceholders } from './manifests';

/** Same key as actions/catalog's ANNOTATIONS.accessScopes: JSON object group ref -> scopes. */
export const ACCESS_SCOPES_ANNOTATION = 'tensorflow.ml-platform.io/access-scopes';
/** Where the endpoint's access records can be read. */
export const ACCESS_LOG_URL_ANNOTATION = 'tensorflow.ml-platform.io/access-log-url';

export interface GatewayCatalogMetadata {
  annotations: Record<string, string>;
  links: Array<{ url: string; title: string; icon?: string }>;
}

/** Which groups hold which scopes, as the annotation's JSON (keys and scopes sorted). */
export function accessScopesAnnotation(grants: Pick<ProjectGrants, 'groups'>): string {
  const out: Record<string, string[]> = {};
  for (const group of Object.keys(grants.groups).sort()) out[group] = [...new Set(grants.groups[group])].sort();
  return JSON.stringify(out);
}

/**
 * The access-records URL for the project, from `tensorflow.gateway.accessLogUrlTemplate`
 * (`{namespace}` / `{name}` by plain string replacement); undefined when not configured.
 */
export function accessLogUrl(project: ModelProject, config: GatewayConfig): string | undefined {
  if (!config.accessLogUrlTemplate) return undefined;
  const url = fillPlaceholders(config.accessLogUrlTemplate, {
    namespace: encodeURIComponent(project.namespace),
    name: encodeURIComponent(project.name),
  });
  new URL(url); // throws on a template that does not give a URL
  return url;
}

/**
 * Annotations and links for the endpoint's catalog entity: the scopes per group
 * and, where the platform configured it, a link to the access records.
 */
export function gatewayCatalogMetadata(
  project: ModelProject,
  grants: Pick<ProjectGrants, 'groups'>,
  config: GatewayConfig,
): GatewayCatalogMetadata {
  const annotations: Record<string, string> = { [ACCESS_SCOPES_ANNOTATION]: accessScopesAnnotation(grants) };
  const links: GatewayCatalogMetadata['links'] = [];
  const url = accessLogUrl(project, config);
  if (url) {
    annotations[ACCESS_LOG_URL_ANNOTATION] = url;
    links.push({ url, title: 'Access records', icon: 'docs' });
  }
  return { annotations, links };
}
