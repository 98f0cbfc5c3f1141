export {
  GATEWAY_DEFAULTS,
  GatewayConfigError,
  parseGatewayConfig,
  readGatewayConfig,
  type GatewayConfig,
} from './config';
export {
  GATEWAY_AREA,
  buildGatewayManifests,
  gatewayManifestFiles,
  gatewayOwnedPaths,
  gatewayManifestYaml,
  gatewayWorkloadSelector,
  projectAudience,
  type GatewayManifest,
  type GatewayWorkload,
} from './manifests';
export {
  accessLogProvider,
  meshConfigSnippet,
  validateAccessLogProvider,
  ACCESS_LOG_FIELDS,
} from './accesslog';
export { accessLogUrl } from './visibility';
