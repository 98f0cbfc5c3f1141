import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  catalogLocationsExtensionPoint,
  catalogProcessingExtensionPoint,
} from '@backstage/plugin-catalog-node';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { stringifyError } from '@backstage/errors';

/**
 * On embedded defaults model repositories are local git repositories, so their
 * catalog-info.yaml is registered as a `file` location; the catalog allows only
 * `url` unless told otherwise.
 */
export const catalogModuleAllowFileLocations = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'allow-file-locations',
  register(reg) {
    reg.registerInit({
      deps: { locations: catalogLocationsExtensionPoint },
      async init({ locations }) {
        locations.setAllowedLocationTypes(['url', 'file']);
      },
    });
  },
});

/** The catalog's error events serialise errors as `{}`; log their real text instead. */
export const catalogModuleErrorLogger = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'processing-error-logger',
  register(reg) {
    reg.registerInit({
      deps: {
        processing: catalogProcessingExtensionPoint,
        logger: coreServices.logger,
      },
      async init({ processing, logger }) {
        processing.setOnProcessingErrorHandler(
          ({ unprocessedEntity, errors }) => {
            for (const error of errors) {
              logger.warn(
                `Processing error for ${stringifyEntityRef(unprocessedEntity)}: ${stringifyError(error)}`,
              );
            }
          },
        );
      },
    });
  },
});
