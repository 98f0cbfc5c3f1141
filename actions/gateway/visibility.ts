import type { ModelProject } from '../shared/naming';
import type { GatewayConfig } from './config';
import { fillPlaceholders } from './placeholders';

/**
 * The access-records URL for the project, from `tensorflow.gateway.accessLogUrlTemplate`
 * (`{namespace}` / `{name}` by plain string replacement); undefined when not configured.
 * tensorflow:catalog:register puts it on the endpoint entity (annotation
 * `ANNOTATIONS.accessLogUrl` and an "Access records" link, actions/catalog/entities.ts), next to
 * the access-scopes annotation it already builds from the identity step's grants.
 */
export function accessLogUrl(
  project: Pick<ModelProject, 'namespace' | 'name'>,
  config: Pick<GatewayConfig, 'accessLogUrlTemplate'>,
): string | undefined {
  if (!config.accessLogUrlTemplate) return undefined;
  const url = fillPlaceholders(config.accessLogUrlTemplate, {
    namespace: encodeURIComponent(project.namespace),
    name: encodeURIComponent(project.name),
  });
  if (!URL.canParse(url))
    throw new TypeError(
      `tensorflow.gateway.accessLogUrlTemplate gives "${url}", which is not a URL`,
    );
  return url;
}
