import path from 'node:path';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { ScmIntegrations } from '@backstage/integration';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { readAccessPolicy } from './access/config';
import { readCatalogConfig } from './catalog/config';
import { createCatalogRegisterAction } from './catalog/register';
import { readGatewayConfig } from './gateway/config';
import { createGithubClient } from './shared/github/client';
import { createGithubConfigureAction } from './github/configure';
import { readGitOpsConfig } from './gitops/config';
import { createClaimStore, createGitOpsTarget } from './gitops';
import type { ProjectAccess } from './access/project';
import { assertCiContractConfig } from './identity/ciContract';
import { readIdentityConfig } from './identity/config';
import { createIdentityProvisionAction } from './identity/provision';
import { readSmokeDefaults } from './model/config';
import { createModelCreateAction } from './model/create';
import { createModelValidateAction } from './model/validate';
import { createRepositoryPublishAction } from './repository/publish';
import { GithubRepositoryPublisher } from './repository/github';
import { LocalRepositoryPublisher } from './repository/local';
import { readServingConfig, servingPlatformNamespaces } from './serving/config';
import { createServingProvisionAction } from './serving/provision';
import {
  configError,
  readLocalRepositoryRoot,
  readNamingOptions,
  readOwnerRule,
  reservedNamespaceClash,
} from './shared/config';
import { packageRoot } from './shared/paths';

/**
 * The TensorFlow scaffolder module: registers every `tensorflow:*` action.
 * Shared dependencies are built once here and injected into the action factories;
 * actions never read config or globals themselves.
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
        logger: coreServices.logger,
        auditor: coreServices.auditor,
        urlReader: coreServices.urlReader,
        catalog: catalogServiceRef,
      },
      async init({ scaffolder, config, logger, auditor, urlReader, catalog }) {
        // Every section is parsed here, so invalid configuration fails start-up naming the key.
        // The one owner rule, read once; every action gets it through `naming`.
        const owners = readOwnerRule(config);
        if (owners.deprecation) logger.warn(owners.deprecation);
        const naming = readNamingOptions(config, owners.ownerKinds);
        const access = readAccessPolicy(config);
        const identity = readIdentityConfig(config);
        const serving = readServingConfig(config);
        const ci = assertCiContractConfig(
          identity,
          serving.modelStorageBaseUri,
        );
        const clash = reservedNamespaceClash(
          naming.namespacePrefix,
          servingPlatformNamespaces(serving),
        );
        if (clash)
          throw configError(
            'namespacePrefix',
            `"${naming.namespacePrefix}" ${clash}; choose a prefix of your own, such as "ml-"`,
          );
        const gateway = readGatewayConfig(config);
        const catalogConfig = readCatalogConfig(config);
        const smokeDefaults = readSmokeDefaults(config);
        // entity and task links point at the frontend; without app.baseUrl, the backend (which serves the app in the dev setup)
        const appBaseUrl =
          config.getOptionalString('app.baseUrl') ??
          config.getOptionalString('backend.baseUrl') ??
          'http://localhost:7007';

        const integrations = ScmIntegrations.fromConfig(config);
        const gitops = createGitOpsTarget(readGitOpsConfig(config), {
          integrations,
          logger,
        });
        const skeletonsDir = path.join(packageRoot(), 'skeletons');
        const getGithubClient = (
          target: Parameters<typeof createGithubClient>[0],
        ) => createGithubClient(target, { integrations, logger });
        // One owner per project: every action asks this before its first side effect.
        const projectAccess: ProjectAccess = {
          catalog,
          policy: access,
          claims: createClaimStore(gitops),
          auditor,
        };
        const publishers = [
          new LocalRepositoryPublisher(readLocalRepositoryRoot(config)),
          new GithubRepositoryPublisher({
            integrations,
            getClient: getGithubClient,
          }),
        ];

        scaffolder.addActions(
          createModelCreateAction({
            skeletonsDir,
            auditor,
            naming,
            projectAccess,
            ci,
          }),
          createModelValidateAction({
            urlReader,
            auditor,
            defaults: smokeDefaults,
            naming,
            projectAccess,
          }),
          createRepositoryPublishAction({
            publishers,
            auditor,
            naming,
            projectAccess,
          }),
          createGithubConfigureAction({
            getClient: getGithubClient,
            integrations,
            access,
            naming,
            auditor,
            projectAccess,
          }),
          createIdentityProvisionAction({
            gitops,
            access,
            identity,
            naming,
            auditor,
            projectAccess,
            modelStorageBaseUri: serving.modelStorageBaseUri,
          }),
          createServingProvisionAction({
            gitops,
            serving,
            naming,
            auditor,
            access,
            gateway,
            projectAccess,
          }),
          createCatalogRegisterAction({
            catalog,
            publishers,
            auditor,
            naming,
            catalogConfig,
            access,
            baseUrl: appBaseUrl,
            projectAccess,
            gateway,
          }),
        );
      },
    });
  },
});
