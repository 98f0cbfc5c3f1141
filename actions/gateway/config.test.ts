import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigReader } from '@backstage/config';
import { computeGrants } from '../access/grants';
import { DEFAULT_ACCESS_POLICY } from '../access/config';
import {
  accessLogProvider,
  meshConfigSnippet,
  validateAccessLogProvider,
} from './accesslog';
import {
  GATEWAY_DEFAULTS,
  parseGatewayConfig,
  readGatewayConfig,
} from './config';
import { projectA, projectB } from '../../test/support/gateway/fixtures';
import { buildGatewayManifests, projectAudience } from './manifests';
import { accessLogUrl } from './visibility';

const read = (gateway?: object) =>
  readGatewayConfig(
    new ConfigReader(gateway ? { tensorflow: { gateway } } : {}),
  );

describe('readGatewayConfig', () => {
  it('embeds defaults (a dev issuer) that produce valid manifests', () => {
    expect(read()).toEqual(GATEWAY_DEFAULTS);
    expect(() =>
      buildGatewayManifests(
        projectA,
        computeGrants(DEFAULT_ACCESS_POLICY, projectA, {}),
        read(),
      ),
    ).not.toThrow();
  });

  it('reads a full section', () => {
    const cfg = read({
      issuer: 'https://login.example.com/realms/ml',
      jwksUri:
        'https://login.example.com/realms/ml/protocol/openid-connect/certs',
      audienceTemplate: 'https://models.example.com/{name}',
      groupsClaim: 'roles',
      groupClaimValue: '{namespace}/{name}',
      accessLogProvider: 'json-stdout',
      accessLogUrlTemplate:
        'https://logs.example.com/search?q=namespace:{namespace}%20AND%20workload:{name}',
    });
    expect(projectAudience(projectA, cfg)).toBe(
      'https://models.example.com/fraud-detector',
    );
    expect(cfg.groupsClaim).toBe('roles');
  });

  it.each([
    [
      { issuer: 'https://idp.example.com' },
      'jwksUri',
      /required when issuer is set/,
    ],
    [
      {
        issuer: 'https://idp.example.com/*',
        jwksUri: 'https://idp.example.com/k',
      },
      'issuer',
      /"\*"/,
    ],
    [{ jwksUri: 'file:///etc/keys' }, 'jwksUri', /http\(s\)/],
    [
      { audienceTemplate: 'tensorflow-serving' },
      'audienceTemplate',
      /every project needs its own audience/,
    ],
    [
      { audienceTemplate: 'aud/{project}' },
      'audienceTemplate',
      /unknown placeholder/,
    ],
    [{ groupsClaim: 'realm_access.roles' }, 'groupsClaim', /top-level claim/],
    [{ groupClaimValue: 'everyone' }, 'groupClaimValue', /must contain/],
    [{ groupClaimValue: '{owner}' }, 'groupClaimValue', /unknown placeholder/],
    [{ accessLogProvider: 'Envoy Log' }, 'accessLogProvider', /DNS-style/],
    [
      { accessLogUrlTemplate: 'logs/{namespace}' },
      'accessLogUrlTemplate',
      /not a URL/,
    ],
    [
      { accessLogUrlTemplate: 'https://logs/{project}' },
      'accessLogUrlTemplate',
      /unknown placeholder/,
    ],
    [{ colour: 'blue' }, 'colour', /unknown key/],
  ])('rejects %j naming tensorflow.gateway.%s', (raw, key, message) => {
    expect(() => read(raw)).toThrow(
      expect.objectContaining({ key, message: expect.stringMatching(message) }),
    );
    expect(() => read(raw)).toThrow(`tensorflow.gateway.${key}`);
  });

  it('audiences differ per project for every accepted template', () => {
    for (const t of [
      '{name}',
      'x/{namespace}',
      'https://a/{name}/{namespace}',
    ]) {
      const cfg = parseGatewayConfig({ audienceTemplate: t });
      expect(projectAudience(projectA, cfg)).not.toBe(
        projectAudience(projectB, cfg),
      );
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
      expect.arrayContaining([
        'principal',
        'groups',
        'method',
        'path',
        'workload',
        'response_code',
      ]),
    );
    const tel = buildGatewayManifests(
      projectA,
      computeGrants(DEFAULT_ACCESS_POLICY, projectA, {}),
      cfg,
    ).find(m => m.kind === 'Telemetry')!;
    expect(
      (
        tel.spec as {
          accessLogging: Array<{ providers: Array<{ name: string }> }>;
        }
      ).accessLogging[0].providers[0].name,
    ).toBe(provider.name);
  });

  it('the provider check refuses a missing field, a non-operator value and a name mismatch', () => {
    const good = accessLogProvider(GATEWAY_DEFAULTS);
    expect(() =>
      validateAccessLogProvider(good, GATEWAY_DEFAULTS.accessLogProvider),
    ).not.toThrow();
    const { principal: _omit, ...rest } =
      good.envoyFileAccessLog.logFormat.labels;
    expect(() =>
      validateAccessLogProvider({
        ...good,
        envoyFileAccessLog: {
          path: '/dev/stdout',
          logFormat: { labels: rest },
        },
      }),
    ).toThrow(/"principal" is required/);
    expect(() =>
      validateAccessLogProvider({
        ...good,
        envoyFileAccessLog: {
          path: '/dev/stdout',
          logFormat: { labels: { ...rest, principal: '{{user}}' } },
        },
      }),
    ).toThrow(/command operators/);
    expect(() => validateAccessLogProvider(good, 'other')).toThrow(/differs/);
  });
});

describe('catalog visibility', () => {
  it('gives no access-records URL when accessLogUrlTemplate is unset', () => {
    expect(accessLogUrl(projectA, GATEWAY_DEFAULTS)).toBeUndefined();
  });

  it('fills the access-records URL by plain placeholder replacement', () => {
    const cfg = parseGatewayConfig({
      accessLogUrlTemplate:
        'https://logs.example.com/app/{namespace}?workload={name}&x=${namespace}',
    });
    expect(accessLogUrl(projectA, cfg)).toBe(
      'https://logs.example.com/app/ml-fraud-detector?workload=fraud-detector&x=$ml-fraud-detector',
    );
  });
});

describe('docs/gateway.md', () => {
  it('shows exactly the generated meshConfig snippet', () => {
    const doc = readFileSync(
      path.join(__dirname, '../../docs/gateway.md'),
      'utf8',
    );
    const block = /<!-- mesh-config-snippet -->\s*```yaml\n([\s\S]*?)```/.exec(
      doc,
    );
    expect(block).not.toBeNull();
    expect(parse(block![1])).toEqual(
      JSON.parse(JSON.stringify(meshConfigSnippet(GATEWAY_DEFAULTS))),
    );
  });
});
