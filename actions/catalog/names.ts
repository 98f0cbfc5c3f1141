import { createHash } from 'node:crypto';
import type { ModelProject } from '../shared/naming';

/** Catalog entity names are at most 63 characters (`FieldFormatEntityPolicy`). */
export const ENTITY_NAME_MAX = 63;

export interface CatalogEntityNames {
  /** Catalog namespace of every entity we register. */
  namespace: 'default';
  /** Component (type model-project): the model project's repository. */
  repo: string;
  /** Resource (type ai-model): the model. */
  model: string;
  /** Component (type model-server): the TF Serving endpoint. */
  endpoint: string;
  /** API (type openapi): the endpoint's REST API. */
  api: string;
  /** Resource (type service-account): the project's serving service account. */
  serviceAccount: string;
}

function withSuffix(base: string, suffix: string): string {
  const full = `${base}${suffix}`;
  if (full.length <= ENTITY_NAME_MAX) return full;
  // Too long: keep a readable prefix plus a short hash of the full base, so two long
  // names that share a prefix still get different, stable entity names.
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 6);
  const keep = ENTITY_NAME_MAX - suffix.length - hash.length - 1;
  return `${base.slice(0, keep).replace(/-+$/, '')}-${hash}${suffix}`;
}

/**
 * The one place where catalog entity names are derived from the project, so every run,
 * every template and every test agrees on them.
 */
export function catalogEntityNames(project: Pick<ModelProject, 'name' | 'serviceAccount'>): CatalogEntityNames {
  return {
    namespace: 'default',
    repo: withSuffix(project.name, ''),
    model: withSuffix(project.name, '-model'),
    endpoint: withSuffix(project.name, '-endpoint'),
    api: withSuffix(project.name, '-api'),
    serviceAccount: withSuffix(project.serviceAccount, '-sa'),
  };
}
