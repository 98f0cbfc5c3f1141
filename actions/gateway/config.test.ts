import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigReader } from '@backstage/config';
import { computeGrants } from '../access/grants';
import { DEFAULT_ACCESS_POLICY } from '../access/config';
import { accessLogProvider, meshConfigSnippet, validateAccessLogProvider } from './accesslog';
import { GATEWAY_DEFAULTS, parseGatewayConfig, readGatewayConfig } from './config';
import { projectA, projectB } from '../../test/support/gateway/fixtures';
import { buildGatewayManifests, projectAudience } from './manifests';
import { ACCESS_LOG_URL_ANNOTATION, ACCESS_SCOPES_ANNOTATION, accessLogUrl, gatewayCatalogMetadata } from './visibility';
import { ANNOTATIONS } from '../catalog/entities';

const read = (gateway?: object) => readGatewayConfig(new ConfigReader(gateway ? { tensorflow: { gateway } } : {}));

describe('readGatewayConfig', () => {
  it('embeds defaults (a dev issuer) that produce valid manifests', () => {
    expect(read()).toEqual(GATEWAY_DEFAULTS);
    expect(() => buildGatewayManifests(projectA, computeGrants(DEFAULT_ACCESS_POLICY, projectA, {}), read())).not.toThrow();
  });

  it('reads a full section', () => {
    const cfg = read({
      issuer: 'https://login.example.com/realms/ml',
      jwksUri: 'https://login.example.com/realms/ml/protocol/openid-connect/certs',
      audienceTemplate: 'https://models.example.com/{name}',
      groupsClaim: 'roles',
      groupClaimValue: '{namespace}/{name}',
      accessLogProvider: 'json-stdout',
      accessLogUrlTemplate: 'https://logs.example.com/search?q=namespace:{namespace}%20AND%20workload:{name}',
    });
    expect(projectAudience(projectA, cfg)).toBe('https://models.example.com/fraud-detector');
    expect(cfg.groupsClaim).toBe('roles');
  });

  it.each([
    [{ issuer: 'https://idp.example.com' }, 'jwksUri', /required when issuer is set/],
    [{ issuer: 'https://idp.example.com/*', jwksUri: 'https://idp.example.com/k' }, 'issuer', /"\*"/],
    [{ jwksUri: 'file:///etc/keys' }, 'jwksUri', /http\(s\)/],
    [{ audienceTemplate: 'tensorflow-serving' }, 'audienceTemplate', /every project needs its own audience/],
    [{ audienceTemplate: 'aud/{project}' }, 'audienceTemplate', /unknown placeholder/],
    [{ groupsClaim: 'realm_access.roles' }, 'groupsClaim', /top-level claim/],
    [{ groupClaimValue: 'everyone' }, 'groupClaimValue', /must contain/],
    [{ groupClaimValue: '{owner}' }, 'groupClaimValue', /unknown placeholder/],
    [{ accessLogProvider: 'Envoy Log' }, 'accessLogProvider', /DNS-style/],
    [{ accessLogUrlTemplate: 'logs/{namespace}' }, 'accessLogUrlTemplate', /not a URL/],
    [{ accessLogUrlTemplate: 'https://logs/{project}' }, 'accessLogUrlTemplate', /unknown placeholder/],
    [{ colour: 'blue' }, 'colour', /unknown key/],
  ])('rejects %j naming tensorflow.gateway.%s', (raw, key, message) => {
    expect(() => read(raw)).toThrow(expect.objectContaining({ key, message: expect.stringMatching(message) }));
    expect(() => read(raw)).toThrow(`tensorflow.gateway.${key}`);
  });

  it('audiences differ per project for every accepted template', () => {
    for (const t of ['{name}', 'x/{namespace}', 'https://a/{name}/{namespace}']) {
      const cfg = parseGatewayConfig({ audienceTemplate: t });
      expect(projectAudience(projectA, cfg)).not.toBe(projectAudience(projectB, cfg));
    }
  });
});

describe('access records', () => {
  it('the meshConfig snippet validates and names the provider the Telemetry selects', () => {
    const cfg = parseGatewayConfig({ accessLogProvider: 'ml-json' });
    const snippet = meshConfigSnippet(cfg);
    const provider = snippet.spec.meshConfig.extensionProviders[0];
    expect(provider.name).toBe('ml-json');
    expect(Object.keys(provider.envoyFileAccessLog.logFormat.labels)).toEqual(
      expect.arrayContaining(['principal', 'groups', 'method', 'path', 'workload', 'response_code']),
    );
    const tel = buildGatewayManifests(projectA, computeGrants(DEFAULT_ACCESS_POLICY, projectA, {}), cfg).find(m => m.kind === 'Telemetry')!;
    expect((tel.spec as { accessLogging: Array<{ providers: Array<{ name: string }> }> }).accessLogging[0].providers[0].name).toBe(provider.name);
  });

  it('the provider check refuses a missing field, a non-operator value and a name mismatch', () => {
    const good = accessLogProvider(GATEWAY_DEFAULTS);
    expect(() => validateAccessLogProvider(good, GATEWAY_DEFAULTS.accessLogProvider)).not.toThrow();
    const { principal: _omit, ...rest } = good.envoyFileAccessLog.logFormat.labels;
    expect(() => validateAccessLogProvider({ ...good, envoyFileAccessLog: { path: '/dev/stdout', logFormat: { labels: rest } } })).toThrow(/"principal" is required/);
    expect(() =>
      validateAccessLogProvider({ ...good, envoyFileAccessLog: { path: '/dev/stdout', logFormat: { labels: { ...rest, principal: '{{user}}' } } } }),
    ).toThrow(/command operators/);
    expect(() => validateAccessLogProvider(good, 'other')).toThrow(/differs/);
  });
});

describe('catalog visibility', () => {
  const grants = computeGrants(DEFAULT_ACCESS_POLICY, projectA, { 'group:default/risk': ['read-metadata', 'predict'] });

  it('annotates which groups hold which scopes, with the catalog helper\'s key', () => {
    expect(ACCESS_SCOPES_ANNOTATION).toBe(ANNOTATIONS.accessScopes);
    const meta = gatewayCatalogMetadata(projectA, grants, GATEWAY_DEFAULTS);
    expect(JSON.parse(meta.annotations[ACCESS_SCOPES_ANNOTATION])).toEqual({
      'group:default/ml-platform': ['admin'],
      'group:default/risk': ['predict', 'read-metadata'],
    });
    expect(meta.links).toEqual([]);
    expect(meta.annotations[ACCESS_LOG_URL_ANNOTATION]).toBeUndefined();
  });

  it('links the access records by plain placeholder replacement', () => {
    const cfg = parseGatewayConfig({ accessLogUrlTemplate: 'https://logs.example.com/app/{namespace}?workload={name}&x=${namespace}' });
    expect(accessLogUrl(projectA, cfg)).toBe('https://logs.example.com/app/ml-fraud-detector?workload=fraud-detector&x=$ml-fraud-detector');
    const meta = gatewayCatalogMetadata(projectA, grants, cfg);
    expect(meta.links).toEqual([{ url: accessLogUrl(projectA, cfg), title: 'Access records', icon: 'docs' }]);
    expect(meta.annotations[ACCESS_LOG_URL_ANNOTATION]).toBe(accessLogUrl(projectA, cfg));
  });
});

describe('docs/gateway.md', () => {
  it('shows exactly the generated meshConfig snippet', () => {
    const doc = readFileSync(path.join(__dirname, '../../docs/gateway.md'), 'utf8');
    const block = /<!-- mesh-config-snippet -->\s*```yaml\n([\s\S]*?)```/.exec(doc);
    expect(block).not.toBeNull();
    expect(parse(block![1])).toEqual(JSON.parse(JSON.stringify(meshConfigSnippet(GATEWAY_DEFAULTS))));
  });
});
