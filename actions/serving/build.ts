/**
 * What the serving step builds (manifests, GitOps files, the paths it owns, the pull-request
 * text). tensorflow:serving:provision loads it on its first run, not with the module.
 */
export {
  buildGatewayManifests,
  gatewayManifestFiles,
  gatewayOwnedPaths,
} from '../gateway';
export { describeChange } from './describeChange';
export { servingManifestFiles, servingOwnedPaths } from './files';
export { buildServingManifests } from './manifests';
