import fs from 'node:fs';
import path from 'node:path';
import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  entityKindSchemaValidator,
  getCompoundEntityRef,
  parseEntityRef,
  RELATION_OWNED_BY,
  RELATION_OWNER_OF,
  RELATION_PART_OF,
  RELATION_HAS_PART,
  type Entity,
} from '@backstage/catalog-model';
import {
  catalogProcessingExtensionPoint,
  processingResult,
  type CatalogProcessor,
  type CatalogProcessorEmit,
} from '@backstage/plugin-catalog-node';

/** RHDH's published AiModelServerAPI schema (committed copy, Apache-2.0; test/fixtures/schemas/README.md). */
export const rhdhAiModelServerSchema = JSON.parse(
  fs.readFileSync(
    path.resolve(
      __dirname,
      '../fixtures/schemas/rhdh/API.v1alpha1.ai-model-server.schema.json',
    ),
    'utf8',
  ),
);

/**
 * What RHDH's `aiModelServerApiEntityModel` catalog model layer registers
 * (rhdh-plugins catalog-model-ai-model-server, AiModelServerApiEntity.ts): the AiModelServerAPI
 * kind, validated by `entityKindSchemaValidator` with that schema, with `spec.owner` -> ownedBy
 * (default kind Group) and `spec.system` -> partOf. That package needs a catalog-model with
 * `createCatalogModelLayer`, which the pinned 1.10.1 lacks, so the same rules run here as a
 * processor.
 */
class RhdhAiModelServerApiProcessor implements CatalogProcessor {
  private readonly validate = entityKindSchemaValidator(
    rhdhAiModelServerSchema,
  );

  getProcessorName(): string {
    return 'RhdhAiModelServerApiKind';
  }

  async validateEntityKind(entity: Entity): Promise<boolean> {
    if (entity.kind !== 'AiModelServerAPI') return false;
    return this.validate(entity) === entity;
  }

  async postProcessEntity(
    entity: Entity,
    _location: unknown,
    emit: CatalogProcessorEmit,
  ): Promise<Entity> {
    if (entity.kind !== 'AiModelServerAPI') return entity;
    const self = getCompoundEntityRef(entity);
    const spec = entity.spec as { owner?: string; system?: string };
    const link = (
      target: string,
      defaultKind: string,
      forward: string,
      backward: string,
    ) => {
      const ref = parseEntityRef(target, {
        defaultKind,
        defaultNamespace: self.namespace,
      });
      emit(
        processingResult.relation({ source: self, type: forward, target: ref }),
      );
      emit(
        processingResult.relation({
          source: ref,
          type: backward,
          target: self,
        }),
      );
    };
    if (spec.owner)
      link(spec.owner, 'Group', RELATION_OWNED_BY, RELATION_OWNER_OF);
    if (spec.system)
      link(spec.system, 'System', RELATION_PART_OF, RELATION_HAS_PART);
    return entity;
  }
}

export const catalogModuleRhdhAiModelServerApi = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'rhdh-ai-model-server-api-kind',
  register(reg) {
    reg.registerInit({
      deps: { processing: catalogProcessingExtensionPoint },
      async init({ processing }) {
        processing.addProcessor(new RhdhAiModelServerApiProcessor());
      },
    });
  },
});
