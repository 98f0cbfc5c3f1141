import type { Config } from '@backstage/config';

/**
 * Parsed `tensorflow.gateway` section: how the mesh in front of every model
 * endpoint authenticates callers (JWTs from the platform's identity provider),
 * which token claims carry groups, and where access records go.
 */
export interface GatewayConfig {
  /** `iss` of the platform identity provider's tokens. */
  issuer: string;
  /** Where the mesh fetches the provider's signing keys. */
  jwksUri: string;
  /**
   * Per-project token audience. `{name}` and `{namespace}` are replaced by plain
   * string replacement (never a template engine); at least one must appear, so
   * that no two projects share an audience.
   */
  audienceTemplate: string;
  /** Token claim holding the caller's groups, as Istio reads it: `request.auth.claims[<groupsClaim>]`. */
  groupsClaim: string;
  /**
   * How a Backstage group ref appears in the groups claim: `{ref}` (`group:default/risk`),
   * `{namespace}`, `{name}` replaced by plain string replacement. Default `{name}`.
   */
  groupClaimValue: string;
  /** Name of the meshConfig extension provider that writes access records. */
  accessLogProvider: string;
  /** Where the access records can be read, with `{namespace}` / `{name}` placeholders; optional. */
  accessLogUrlTemplate?: string;
}

export const GATEWAY_DEFAULTS: GatewayConfig = {
  issuer: 'https://idp.dev.localhost',
  jwksUri: 'https://idp.dev.localhost/.well-known/jwks.json',
  audienceTemplate: 'tensorflow-serving/{namespace}',
  groupsClaim: 'groups',
  groupClaimValue: '{name}',
  accessLogProvider: 'ml-serving-access-log',
};

export class GatewayConfigError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`Invalid configuration at tensorflow.gateway.${key}: ${detail}`);
    this.name = 'GatewayConfigError';
  }
}

const CLAIM = /^[A-Za-z0-9_-]{1,64}$/;
const PROVIDER = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;
const URL_PLACEHOLDERS = ['{namespace}', '{name}'];
const GROUP_PLACEHOLDERS = ['{ref}', '{namespace}', '{name}'];

function placeholdersIn(template: string): string[] {
  return [...template.matchAll(/\{[^{}]*\}/g)].map(m => m[0]);
}

function checkPlaceholders(
  key: string,
  template: string,
  allowed: string[],
): void {
  const unknown = placeholdersIn(template).filter(p => !allowed.includes(p));
  if (unknown.length > 0) {
    throw new GatewayConfigError(
      key,
      `unknown placeholder(s) ${unknown.join(', ')}; use ${allowed.join(' ')}`,
    );
  }
}

function httpUrl(key: string, value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new GatewayConfigError(
      key,
      `"${value.slice(0, 120)}" is not a URL; give ${what}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new GatewayConfigError(
      key,
      `"${value.slice(0, 120)}" must be an http(s) URL (${what})`,
    );
  }
  return value;
}

function noSpaceOrWildcard(key: string, value: string): string {
  if (value.trim() === '' || /[\s*]/.test(value)) {
    throw new GatewayConfigError(
      key,
      `"${value.slice(0, 120)}" must be non-empty and contain no spaces or "*"`,
    );
  }
  return value;
}

/**
 * Validates a plain `tensorflow.gateway` object and fills in embedded defaults
 * (a dev issuer), so manifests are valid with no configuration at all.
 */
export function parseGatewayConfig(
  raw: Record<string, unknown> | undefined,
): GatewayConfig {
  const r = raw ?? {};
  const known = [
    'issuer',
    'jwksUri',
    'audienceTemplate',
    'groupsClaim',
    'groupClaimValue',
    'accessLogProvider',
    'accessLogUrlTemplate',
  ];
  for (const k of Object.keys(r)) {
    if (!known.includes(k))
      throw new GatewayConfigError(
        k,
        `unknown key; known keys: ${known.join(', ')}`,
      );
  }
  const str = (k: string): string | undefined => {
    const v = r[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string')
      throw new GatewayConfigError(k, 'must be a string');
    return v;
  };
  const issuerGiven = str('issuer');
  const issuer = noSpaceOrWildcard(
    'issuer',
    issuerGiven ?? GATEWAY_DEFAULTS.issuer,
  );
  const jwksDefault =
    issuerGiven !== undefined ? undefined : GATEWAY_DEFAULTS.jwksUri;
  const jwks = str('jwksUri') ?? jwksDefault;
  if (jwks === undefined) {
    throw new GatewayConfigError(
      'jwksUri',
      "is required when issuer is set: give the identity provider's JWKS URL",
    );
  }
  const jwksUri = httpUrl('jwksUri', jwks, "the identity provider's JWKS URL");

  const audienceTemplate = noSpaceOrWildcard(
    'audienceTemplate',
    str('audienceTemplate') ?? GATEWAY_DEFAULTS.audienceTemplate,
  );
  checkPlaceholders('audienceTemplate', audienceTemplate, URL_PLACEHOLDERS);
  if (
    !audienceTemplate.includes('{name}') &&
    !audienceTemplate.includes('{namespace}')
  ) {
    throw new GatewayConfigError(
      'audienceTemplate',
      `"${audienceTemplate}" contains neither {name} nor {namespace}; every project needs its own audience, e.g. "tensorflow-serving/{namespace}"`,
    );
  }

  const groupsClaim = str('groupsClaim') ?? GATEWAY_DEFAULTS.groupsClaim;
  if (!CLAIM.test(groupsClaim)) {
    throw new GatewayConfigError(
      'groupsClaim',
      `"${groupsClaim.slice(0, 80)}" must be a top-level claim name of letters, digits, "_" or "-"`,
    );
  }
  const groupClaimValue =
    str('groupClaimValue') ?? GATEWAY_DEFAULTS.groupClaimValue;
  checkPlaceholders('groupClaimValue', groupClaimValue, GROUP_PLACEHOLDERS);
  if (placeholdersIn(groupClaimValue).length === 0) {
    throw new GatewayConfigError(
      'groupClaimValue',
      `"${groupClaimValue}" must contain {ref}, {name} or {namespace}`,
    );
  }
  if (groupClaimValue.includes('*'))
    throw new GatewayConfigError('groupClaimValue', 'must not contain "*"');

  const accessLogProvider =
    str('accessLogProvider') ?? GATEWAY_DEFAULTS.accessLogProvider;
  if (!PROVIDER.test(accessLogProvider)) {
    throw new GatewayConfigError(
      'accessLogProvider',
      `"${accessLogProvider.slice(0, 80)}" must be a lowercase DNS-style name`,
    );
  }
  const accessLogUrlTemplate = str('accessLogUrlTemplate');
  if (accessLogUrlTemplate !== undefined) {
    checkPlaceholders(
      'accessLogUrlTemplate',
      accessLogUrlTemplate,
      URL_PLACEHOLDERS,
    );
    httpUrl(
      'accessLogUrlTemplate',
      accessLogUrlTemplate
        .split('{namespace}')
        .join('ns')
        .split('{name}')
        .join('n'),
      'a log search URL',
    );
  }
  return {
    issuer,
    jwksUri,
    audienceTemplate,
    groupsClaim,
    groupClaimValue,
    accessLogProvider,
    ...(accessLogUrlTemplate !== undefined ? { accessLogUrlTemplate } : {}),
  };
}

/** Reads and validates `tensorflow.gateway`; call once at backend start-up (module.ts). */
export function readGatewayConfig(config: Config): GatewayConfig {
  const section = config.getOptionalConfig('tensorflow.gateway');
  return parseGatewayConfig(
    section ? (section.get() as Record<string, unknown>) : undefined,
  );
}
