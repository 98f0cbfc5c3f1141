import { istioModels } from '../shared/kubernetesModels';
import type { GatewayConfig } from './config';
import { GROUPS_HEADER, PRINCIPAL_HEADER } from './manifests';

/**
 * The access-record format lives in the platform's meshConfig (extensionProviders),
 * not in per-project resources: the per-project Telemetry only selects the provider.
 * This builds the provider the platform team installs once (see docs/gateway.md).
 */
export interface EnvoyFileAccessLogProvider {
  name: string;
  envoyFileAccessLog: {
    path: string;
    logFormat: { labels: Record<string, string> };
  };
}

/** Fields the log pipeline needs, as Envoy command operators (JSON log lines). */
export const ACCESS_LOG_FIELDS: Record<string, string> = {
  start_time: '%START_TIME%',
  principal: `%REQ(${PRINCIPAL_HEADER.toUpperCase()})%`,
  groups: `%REQ(${GROUPS_HEADER.toUpperCase()})%`,
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  /** TF Serving's model name is the path segment after /v1/models/; the workload is named after the project. */
  workload: '%ENVIRONMENT(ISTIO_META_WORKLOAD_NAME)%',
  namespace: '%ENVIRONMENT(POD_NAMESPACE)%',
  response_code: '%RESPONSE_CODE%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  response_flags: '%RESPONSE_FLAGS%',
  duration_ms: '%DURATION%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
};

/** Fields the platform's pipeline relies on; the validator refuses a provider without them. */
export const REQUIRED_ACCESS_LOG_FIELDS = [
  'principal',
  'groups',
  'method',
  'path',
  'response_code',
] as const;

export function accessLogProvider(
  config: GatewayConfig,
): EnvoyFileAccessLogProvider {
  return {
    name: config.accessLogProvider,
    envoyFileAccessLog: {
      path: '/dev/stdout',
      logFormat: { labels: { ...ACCESS_LOG_FIELDS } },
    },
  };
}

const OPERATOR = /%[A-Z_]+(\([^()%]*\))?(:[0-9]+)?%/g;

/** Structural check of the provider snippet (Istio's MeshConfig.ExtensionProvider.EnvoyFileAccessLogProvider). */
export function validateAccessLogProvider(
  provider: EnvoyFileAccessLogProvider,
  expectedName?: string,
): void {
  const fail = (m: string): never => {
    throw new Error(`access log provider: ${m}`);
  };
  if (!/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(provider.name ?? ''))
    fail(`name "${provider.name}" is not a DNS-style name`);
  if (expectedName !== undefined && provider.name !== expectedName)
    fail(
      `name "${provider.name}" differs from the configured "${expectedName}"`,
    );
  const log = provider.envoyFileAccessLog;
  if (!log || typeof log.path !== 'string' || !log.path.startsWith('/'))
    fail('envoyFileAccessLog.path must be an absolute path');
  const labels = log.logFormat?.labels;
  if (!labels || typeof labels !== 'object')
    fail('envoyFileAccessLog.logFormat.labels is required (JSON records)');
  for (const [key, value] of Object.entries(labels)) {
    if (!/^[a-z][a-z0-9_]*$/.test(key))
      fail(`label "${key}" must be snake_case`);
    if (
      typeof value !== 'string' ||
      value.replace(OPERATOR, '').trim() !== ''
    ) {
      fail(
        `label "${key}" must consist of Envoy command operators such as %REQ(:METHOD)%, got "${String(value)}"`,
      );
    }
  }
  for (const required of REQUIRED_ACCESS_LOG_FIELDS)
    if (!(required in labels)) fail(`label "${required}" is required`);
}

/**
 * The snippet for the platform's Istio installation: an IstioOperator overlay
 * with meshConfig.extensionProviders. Validated (IstioOperator schema + the
 * provider check above). Serialise with yaml at the edge.
 */
export interface MeshConfigSnippet {
  apiVersion: 'install.istio.io/v1alpha1';
  kind: 'IstioOperator';
  metadata: { name: string; namespace: string };
  spec: { meshConfig: { extensionProviders: EnvoyFileAccessLogProvider[] } };
}

export function meshConfigSnippet(config: GatewayConfig): MeshConfigSnippet {
  const provider = accessLogProvider(config);
  validateAccessLogProvider(provider, config.accessLogProvider);
  const snippet: MeshConfigSnippet = {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'ml-serving-access-log', namespace: 'istio-system' },
    spec: { meshConfig: { extensionProviders: [provider] } },
  };
  // The published IstioOperator schema covers type and metadata only; the provider is checked above.
  const { IstioOperator } = istioModels();
  new IstioOperator(
    snippet as unknown as ConstructorParameters<typeof IstioOperator>[0],
  ).validate();
  return snippet;
}
