import type { Config } from '@backstage/config';

/**
 * `tensorflow.catalog` section of app-config, parsed once in module.ts. Its deprecated
 * `allowUserOwners` is read by shared/config.ts readOwnerRule: the owner rule is `tensorflow.ownerKinds`.
 */
export interface CatalogConfig {
  /** How long the action waits for the registered entities to become readable. Default 60. */
  waitTimeoutSeconds: number;
  /** Lifecycle of registered Components and APIs when the template gives none. Default `experimental`. */
  defaultLifecycle: string;
  /**
   * Also register one `AiModelServerAPI` entity per endpoint (RHDH model catalog 1.0+).
   * Default false: a catalog without RHDH's kind layer cannot process that kind.
   */
  rhdhAiModelServerApi: boolean;
}

export const DEFAULT_CATALOG_CONFIG: CatalogConfig = {
  waitTimeoutSeconds: 60,
  defaultLifecycle: 'experimental',
  rhdhAiModelServerApi: false,
};

const LIFECYCLE = /^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$/;

/** Reads `tensorflow.catalog`; every key is optional. Throws naming the key on a bad value. */
export function readCatalogConfig(config: Config): CatalogConfig {
  const section = config.getOptionalConfig('tensorflow.catalog');
  if (!section) return { ...DEFAULT_CATALOG_CONFIG };
  const waitTimeoutSeconds =
    section.getOptionalNumber('waitTimeoutSeconds') ??
    DEFAULT_CATALOG_CONFIG.waitTimeoutSeconds;
  if (
    !Number.isFinite(waitTimeoutSeconds) ||
    waitTimeoutSeconds < 1 ||
    waitTimeoutSeconds > 3600
  ) {
    throw new Error(
      `tensorflow.catalog.waitTimeoutSeconds must be a number of seconds between 1 and 3600, got ${waitTimeoutSeconds}`,
    );
  }
  const defaultLifecycle =
    section.getOptionalString('defaultLifecycle') ??
    DEFAULT_CATALOG_CONFIG.defaultLifecycle;
  if (!LIFECYCLE.test(defaultLifecycle)) {
    throw new Error(
      `tensorflow.catalog.defaultLifecycle "${defaultLifecycle}" is not a valid lifecycle; use e.g. "experimental", "production"`,
    );
  }
  const rhdhAiModelServerApi =
    section.getOptionalBoolean('rhdh.aiModelServerApi') ??
    DEFAULT_CATALOG_CONFIG.rhdhAiModelServerApi;
  return { waitTimeoutSeconds, defaultLifecycle, rhdhAiModelServerApi };
}
