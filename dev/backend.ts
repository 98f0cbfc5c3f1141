import { createBackend } from '@backstage/backend-defaults';
import {
  catalogModuleAllowFileLocations,
  catalogModuleErrorLogger,
} from './modules';

/** The dev backend: a real Backstage backend with the catalog, the scaffolder, this module, and the dev frontend (dev/app) on the same port. */
export function createDevBackend() {
  const backend = createBackend();
  backend.add(import('@backstage/plugin-app-backend'));
  backend.add(import('@backstage/plugin-auth-backend'));
  backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
  backend.add(import('@backstage/plugin-catalog-backend'));
  backend.add(
    import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
  );
  backend.add(catalogModuleAllowFileLocations);
  backend.add(catalogModuleErrorLogger);
  backend.add(import('@backstage/plugin-scaffolder-backend'));
  backend.add(import('../actions'));
  return backend;
}
