import { projectEntityNames, type ProjectEntityNames } from '../shared/naming';

/** Catalog entity names are at most 63 characters (`FieldFormatEntityPolicy`). */
export const ENTITY_NAME_MAX = 63;

export type CatalogEntityNames = ProjectEntityNames;

/** The catalog's view of the project's names; derived in shared/naming with every other name. */
export const catalogEntityNames = projectEntityNames;
