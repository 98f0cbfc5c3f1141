/** What tensorflow:catalog:register writes and outputs: the catalog-info.yaml text and the step outputs. */
import { parseEntityRef, type Entity } from '@backstage/catalog-model';
import yaml from 'yaml';
import type { BuiltEntities } from './entities';

/** `${baseUrl}/catalog/<ns>/<kind>/<name>` */
export function entityUrl(baseUrl: string, ref: string): string {
  const r = parseEntityRef(ref);
  const enc = encodeURIComponent;
  return `${baseUrl.replace(/\/+$/, '')}/catalog/${enc(r.namespace)}/${enc(r.kind.toLocaleLowerCase('en-US'))}/${enc(r.name)}`;
}

/** Serialises the entities as one multi-document YAML file, keys sorted. */
export function serialiseEntities(entities: Entity[]): string {
  return entities
    .map(e => yaml.stringify(e, { sortMapEntries: true }))
    .join('---\n');
}

/** The action's outputs, in the order it has always emitted them; optional ones only when present. */
export function registerOutputs(
  built: BuiltEntities,
  baseUrl: string,
  origin: string,
) {
  const refs = built.refs;
  const entityRefs = [
    refs.repo,
    refs.model,
    refs.serviceAccount,
    refs.api,
    refs.endpoint,
    refs.aiModelServerApi,
  ].filter((r): r is string => !!r);
  return {
    entityRefs,
    repoEntityRef: refs.repo,
    modelEntityRef: refs.model,
    ...(refs.endpoint ? { endpointEntityRef: refs.endpoint } : {}),
    ...(refs.api ? { apiEntityRef: refs.api } : {}),
    ...(refs.serviceAccount
      ? { serviceAccountEntityRef: refs.serviceAccount }
      : {}),
    repoEntityUrl: entityUrl(baseUrl, refs.repo),
    modelEntityUrl: entityUrl(baseUrl, refs.model),
    ...(refs.endpoint
      ? { endpointEntityUrl: entityUrl(baseUrl, refs.endpoint) }
      : {}),
    ...(refs.api ? { apiEntityUrl: entityUrl(baseUrl, refs.api) } : {}),
    catalogLocation: origin,
    entities: built.entities as unknown as Array<Record<string, any>>,
  };
}
