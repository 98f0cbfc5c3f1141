/**
 * Backstage scaffolder module for TensorFlow model projects.
 * Install with `backend.add(import('@ml-platform/plugin-scaffolder-backend-module-tensorflow'))`.
 * @packageDocumentation
 */
export { tensorflowModule as default } from './module';
export { createModelCreateAction } from './model/create';
export type { ModelCreateActionOptions } from './model/create';
export { createRepositoryPublishAction } from './repository/publish';
export { LocalRepositoryPublisher } from './repository/local';
export type { RepositoryPublisher } from './repository/types';
export { deriveProject } from './shared/naming';
export type { ModelProject } from './shared/naming';
