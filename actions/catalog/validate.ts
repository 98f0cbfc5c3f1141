import {
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  resourceEntityV1alpha1Validator,
  SchemaValidEntityPolicy,
  type Entity,
  type KindValidator,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';

/** The same policies the catalog applies when it ingests an entity. */
const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);

const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;

/**
 * The required part of RHDH's AiModelServerAPI schema (catalog-model-ai-model-server,
 * API.v1alpha1.ai-model-server.schema.json); tests check our entity against the schema itself.
 */
const aiModelServerApiValidator: KindValidator = {
  async check(entity) {
    const spec = entity.spec as Record<string, unknown> | undefined;
    const models = spec?.models as
      | { available?: unknown; default?: unknown; discoverable?: unknown }
      | undefined;
    const problems = [
      !['backstage.io/v1alpha1', 'backstage.io/v1beta1'].includes(
        entity.apiVersion,
      ) && 'apiVersion',
      spec?.type !== 'ai-model-server' && 'spec.type',
      ...(['lifecycle', 'owner', 'serverType', 'serverUrl'] as const)
        .filter(k => !nonEmpty(spec?.[k]))
        .map(k => `spec.${k}`),
      spec?.apiEntityRef !== undefined &&
        !nonEmpty(spec.apiEntityRef) &&
        'spec.apiEntityRef',
      spec?.requiresApiKey !== undefined &&
        typeof spec.requiresApiKey !== 'boolean' &&
        'spec.requiresApiKey',
      models?.available !== undefined &&
        !(
          Array.isArray(models.available) && models.available.every(nonEmpty)
        ) &&
        'spec.models.available',
      models?.default !== undefined &&
        !nonEmpty(models.default) &&
        'spec.models.default',
    ].filter(Boolean);
    if (problems.length > 0)
      throw new Error(`"${problems[0]}" is not valid for an AiModelServerAPI`);
    return true;
  },
};

const kindValidators: Record<string, KindValidator> = {
  component: componentEntityV1alpha1Validator,
  resource: resourceEntityV1alpha1Validator,
  api: apiEntityV1alpha1Validator,
  aimodelserverapi: aiModelServerApiValidator,
};

function describe(entity: Entity): string {
  const kind = String(entity?.kind ?? '?');
  const ns = String(entity?.metadata?.namespace ?? 'default');
  const name = String(entity?.metadata?.name ?? '?').slice(0, 80);
  return `${kind.toLocaleLowerCase('en-US')}:${ns}/${name}`;
}

/** `/spec must have required property 'owner'` -> `spec.owner`; `"metadata.name" is not valid` -> `metadata.name`. */
export function fieldOf(message: string): string | undefined {
  const quoted = /^"([^"]+)" is not valid/.exec(message);
  if (quoted) return quoted[1];
  const missing = /^\/?([\w/]*) must have required property '([^']+)'/.exec(
    message,
  );
  if (missing)
    return [...missing[1].split('/').filter(Boolean), missing[2]].join('.');
  const pointer = /^\/([\w/]+) /.exec(message);
  if (pointer) return pointer[1].split('/').join('.');
  return undefined;
}

/**
 * Validates entities with @backstage/catalog-model's policies and kind validators before
 * anything is written. Throws an InputError naming the entity and the field.
 */
export async function validateEntities(entities: Entity[]): Promise<void> {
  for (const entity of entities) {
    const label = describe(entity);
    try {
      const enforced = await policy.enforce(entity);
      if (!enforced) throw new Error('rejected by the entity policies');
      const validator =
        kindValidators[String(entity.kind).toLocaleLowerCase('en-US')];
      if (!validator)
        throw new Error(`kind "${entity.kind}" is not one this action writes`);
      const ok = await validator.check(enforced);
      if (!ok)
        throw new Error(`not a valid ${entity.apiVersion} ${entity.kind}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const field = fieldOf(message);
      throw new InputError(
        `catalog entity ${label} is invalid${field ? ` at ${field}` : ''}: ${message.split('. To learn more')[0]}`,
      );
    }
  }
}
