import { ConfigReader } from '@backstage/config';
import { DEFAULT_CATALOG_CONFIG, readCatalogConfig } from './config';

describe('readCatalogConfig', () => {
  it('defaults every key', () => {
    expect(readCatalogConfig(new ConfigReader({}))).toEqual(
      DEFAULT_CATALOG_CONFIG,
    );
    expect(
      readCatalogConfig(new ConfigReader({ tensorflow: { catalog: {} } })),
    ).toEqual(DEFAULT_CATALOG_CONFIG);
  });
  it('reads the section', () => {
    expect(
      readCatalogConfig(
        new ConfigReader({
          tensorflow: {
            catalog: { waitTimeoutSeconds: 10, defaultLifecycle: 'production' },
          },
        }),
      ),
    ).toEqual({
      waitTimeoutSeconds: 10,
      defaultLifecycle: 'production',
      rhdhAiModelServerApi: false,
    });
    expect(
      readCatalogConfig(
        new ConfigReader({
          tensorflow: { catalog: { rhdh: { aiModelServerApi: true } } },
        }),
      ).rhdhAiModelServerApi,
    ).toBe(true);
  });
  it('names the bad key', () => {
    expect(() =>
      readCatalogConfig(
        new ConfigReader({
          tensorflow: { catalog: { waitTimeoutSeconds: 0 } },
        }),
      ),
    ).toThrow(/tensorflow\.catalog\.waitTimeoutSeconds/);
    expect(() =>
      readCatalogConfig(
        new ConfigReader({
          tensorflow: { catalog: { defaultLifecycle: 'not valid' } },
        }),
      ),
    ).toThrow(/tensorflow\.catalog\.defaultLifecycle/);
    expect(() =>
      readCatalogConfig(
        new ConfigReader({
          tensorflow: { catalog: { rhdh: { aiModelServerApi: 'maybe' } } },
        }),
      ),
    ).toThrow(/aiModelServerApi/);
  });
});
