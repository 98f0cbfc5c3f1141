/**
 * Test support (not used by the action): a catalog that ingests `file` locations from disk
 * the way the real catalog does for our purposes (origin/location annotations, ownedBy
 * relations, 409 on a duplicate location), over @backstage/plugin-catalog-node's
 * in-memory catalog for everything else. The real-backend test lives with the lead.
 */
import fs from 'node:fs';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  parseEntityRef,
  stringifyEntityRef,
  stringifyLocationRef,
  type Entity,
} from '@backstage/catalog-model';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { locationSpecToMetadataName } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import yaml from 'yaml';

export interface FileCatalogOptions {
  /** Entities already in the catalog (groups, users, ...). */
  entities?: Entity[];
  /** Number of reads of a newly ingested entity that still see the old state (processing delay). */
  lagReads?: number;
  /** Never ingest (to test the wait timeout). */
  stuck?: boolean;
}

export class FileCatalog {
  readonly entities: Entity[];
  readonly locations: Array<{ type: string; target: string }> = [];
  readonly calls: string[] = [];
  private lag = new Map<string, number>();

  constructor(private readonly options: FileCatalogOptions = {}) {
    this.entities = [...(options.entities ?? [])];
  }

  private inMemory() {
    return catalogServiceMock({ entities: this.entities });
  }

  private ingest(location: { type: string; target: string }) {
    if (this.options.stuck) return;
    const origin = stringifyLocationRef(location);
    const docs = yaml
      .parseAllDocuments(fs.readFileSync(location.target, 'utf8'))
      .map(d => d.toJS() as Entity);
    for (const doc of docs) {
      const entity: Entity = JSON.parse(JSON.stringify(doc));
      entity.metadata.namespace ??= 'default';
      entity.metadata.annotations = {
        ...entity.metadata.annotations,
        [ANNOTATION_LOCATION]: origin,
        [ANNOTATION_ORIGIN_LOCATION]: origin,
      };
      const owner = (entity.spec as { owner?: string }).owner;
      entity.relations = owner
        ? [
            {
              type: 'ownedBy',
              targetRef: stringifyEntityRef(
                parseEntityRef(owner, {
                  defaultKind: 'group',
                  defaultNamespace: 'default',
                }),
              ),
            },
          ]
        : [];
      const ref = stringifyEntityRef(entity);
      const i = this.entities.findIndex(e => stringifyEntityRef(e) === ref);
      if (i >= 0) this.entities.splice(i, 1, entity);
      else this.entities.push(entity);
      this.lag.set(ref, this.options.lagReads ?? 0);
    }
  }

  /** The subset of CatalogService the action uses. */
  service(): CatalogService {
    // arrow functions, so `this` is the catalog
    const service: Partial<CatalogService> = {
      getEntityByRef: async (ref, opts) => {
        const key =
          typeof ref === 'string'
            ? stringifyEntityRef(parseEntityRef(ref))
            : stringifyEntityRef(ref);
        const lag = this.lag.get(key) ?? 0;
        if (lag > 0) {
          this.lag.set(key, lag - 1);
          return undefined;
        }
        return this.inMemory().getEntityByRef(ref, opts);
      },
      getEntities: async (request, opts) => {
        return this.inMemory().getEntities(request, opts);
      },
      getEntitiesByRefs: async (request, opts) => {
        return this.inMemory().getEntitiesByRefs(request, opts);
      },
      addLocation: async location => {
        this.calls.push(`addLocation ${location.type}:${location.target}`);
        const spec = { type: location.type ?? 'url', target: location.target };
        if (
          this.locations.some(
            l => l.type === spec.type && l.target === spec.target,
          )
        ) {
          throw new ConflictError(
            `Location ${spec.type}:${spec.target} already exists`,
          );
        }
        this.locations.push(spec);
        this.ingest(spec);
        return {
          location: {
            id: String(this.locations.length),
            ...spec,
            entityRef: `location:default/${locationSpecToMetadataName(spec)}`,
          },
          entities: [],
          exists: false,
        };
      },
      refreshEntity: async ref => {
        this.calls.push(`refreshEntity ${ref}`);
        const location = this.locations.find(
          l => `location:default/${locationSpecToMetadataName(l)}` === ref,
        );
        if (!location) throw new NotFoundError(`no entity ${ref}`);
        this.ingest(location);
      },
    };
    return service as CatalogService;
  }
}
