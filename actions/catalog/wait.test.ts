import { mockCredentials } from '@backstage/backend-test-utils';
import {
  ANNOTATION_ORIGIN_LOCATION,
  type Entity,
} from '@backstage/catalog-model';
import { ConflictError } from '@backstage/errors';
import { ANNOTATIONS, type BuiltEntities } from './entities';
import {
  addOrRefreshLocation,
  isConflict,
  refuseSteal,
  waitForEntities,
} from './wait';

const credentials = mockCredentials.user();
const origin = 'url:https://git.example/fraud-detector/catalog-info.yaml';
const owner = 'group:default/ml-platform';
const entity = (
  annotations: Record<string, string>,
  ownedBy = owner,
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'fraud-detector', namespace: 'default', annotations },
  spec: { owner: ownedBy },
  relations: [{ type: 'ownedBy', targetRef: ownedBy }],
});
const wanted = {
  [ANNOTATIONS.provisionedAt]: '2026-01-01T00:00:00Z',
  [ANNOTATIONS.taskUrl]: 'http://app/create/tasks/t1',
};
const built = { entities: [entity(wanted)] } as unknown as BuiltEntities;
/** A catalog whose reads return the given entities in turn (the last one repeats). */
const reads = (...seq: Array<Entity | undefined>) => {
  let n = 0;
  return {
    getEntityByRef: jest.fn(async () => seq[Math.min(n++, seq.length - 1)]),
  } as any;
};

describe('catalog register: waiting and conflicts', () => {
  it('isConflict: the shapes a 409 arrives in', () => {
    expect(isConflict(new ConflictError('x'))).toBe(true);
    expect(isConflict({ response: { status: 409 } })).toBe(true);
    expect(isConflict({ body: { error: { name: 'ConflictError' } } })).toBe(
      true,
    );
    expect(isConflict(new Error('x'))).toBe(false);
  });

  it('addOrRefreshLocation: adds, or refreshes the existing location on a conflict', async () => {
    const location = {
      type: 'url' as const,
      target: 'https://git.example/fraud-detector/catalog-info.yaml',
    };
    const fresh = {
      addLocation: jest.fn(async () => ({})),
      refreshEntity: jest.fn(),
    } as any;
    await expect(
      addOrRefreshLocation(fresh, location, credentials),
    ).resolves.toBe(false);
    expect(fresh.refreshEntity).not.toHaveBeenCalled();
    const existing = {
      addLocation: jest.fn(async () => {
        throw new ConflictError('exists');
      }),
      refreshEntity: jest.fn(),
    } as any;
    await expect(
      addOrRefreshLocation(existing, location, credentials),
    ).resolves.toBe(true);
    expect(existing.refreshEntity).toHaveBeenCalledWith(
      expect.stringMatching(/^location:default\/generated-/),
      { credentials },
    );
    const failing = {
      addLocation: jest.fn(async () => {
        throw new Error('down');
      }),
    } as any;
    await expect(
      addOrRefreshLocation(failing, location, credentials),
    ).rejects.toThrow('down');
  });

  it('refuseSteal: refuses entities of another owner or location, allows ours and new ones', async () => {
    await expect(
      refuseSteal(reads(undefined), credentials, built.entities, origin, owner),
    ).resolves.toBeUndefined();
    await expect(
      refuseSteal(
        reads(entity({ [ANNOTATION_ORIGIN_LOCATION]: origin })),
        credentials,
        built.entities,
        origin,
        owner,
      ),
    ).resolves.toBeUndefined();
    await expect(
      refuseSteal(
        reads(
          entity(
            { [ANNOTATION_ORIGIN_LOCATION]: origin },
            'group:default/risk',
          ),
        ),
        credentials,
        built.entities,
        origin,
        owner,
      ),
    ).rejects.toThrow(
      /is owned by group:default\/risk; refusing to change its owner/,
    );
    await expect(
      refuseSteal(
        reads(entity({ [ANNOTATION_ORIGIN_LOCATION]: 'url:elsewhere' })),
        credentials,
        built.entities,
        origin,
        owner,
      ),
    ).rejects.toThrow(
      /registered from url:elsewhere .*refusing to take it over/,
    );
  });

  const wait = (
    catalog: any,
    extra: Partial<Parameters<typeof waitForEntities>[0]> = {},
  ) =>
    waitForEntities({
      catalog,
      credentials,
      built,
      origin,
      owner,
      timeoutSeconds: 1,
      intervalMs: 5,
      ...extra,
    });

  it('waitForEntities: polls until the entity shows this task, from our location, with its owner', async () => {
    const ours = entity({ ...wanted, [ANNOTATION_ORIGIN_LOCATION]: origin });
    const stale = entity({
      ...wanted,
      [ANNOTATIONS.taskUrl]: 'http://app/create/tasks/older',
      [ANNOTATION_ORIGIN_LOCATION]: origin,
    });
    const catalog = reads(undefined, stale, ours);
    await wait(catalog);
    expect(catalog.getEntityByRef).toHaveBeenCalledTimes(3);
  });

  it('waitForEntities: times out naming the pending refs and the setting, or stops when cancelled', async () => {
    await expect(
      wait(reads(undefined), { timeoutSeconds: 0.05 }),
    ).rejects.toThrow(
      /the catalog did not show component:default\/fraud-detector from .* within 0.05s \(tensorflow.catalog.waitTimeoutSeconds\)/,
    );
    const controller = new AbortController();
    controller.abort();
    await expect(
      wait(reads(undefined), { signal: controller.signal }),
    ).rejects.toThrow(/was cancelled while waiting for the catalog/);
  });
});
