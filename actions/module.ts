import path from 'node:path';
import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createModelCreateAction } from './model/create';
import { createRepositoryPublishAction } from './repository/publish';
import { LocalRepositoryPublisher } from './repository/local';
import { readLocalRepositoryRoot } from './shared/config';
import { packageRoot } from './shared/paths';

/**
 * The TensorFlow scaffolder module: registers every `tensorflow:*` action.
 * Shared dependencies are built once here and injected into the action factories.
 * @public
 */
export const tensorflowModule = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'tensorflow',
  register({ registerInit }) {
    registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        auditor: coreServices.auditor,
      },
      async init({ scaffolder, config, auditor }) {
        const skeletonsDir = path.join(packageRoot(), 'skeletons');
        const publishers = [new LocalRepositoryPublisher(readLocalRepositoryRoot(config))];
        scaffolder.addActions(
          createModelCreateAction({ skeletonsDir, auditor }),
          createRepositoryPublishAction({ publishers, auditor }),
        );
      },
    });
  },
});
