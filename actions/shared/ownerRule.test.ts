import type { JsonObject } from '@backstage/types';
import { ConfigReader } from '@backstage/config';
import { readNamingOptions, readOwnerRule } from './config';

const rule = (tensorflow: JsonObject) =>
  readOwnerRule(new ConfigReader({ tensorflow }));

describe('readOwnerRule: tensorflow.ownerKinds is the one owner rule', () => {
  it('defaults to [group], with no deprecation', () => {
    expect(readOwnerRule(new ConfigReader({}))).toEqual({
      ownerKinds: ['group'],
    });
    expect(rule({ ownerKinds: ['group', 'user'] })).toEqual({
      ownerKinds: ['group', 'user'],
    });
  });

  it('maps the deprecated allowUserOwners when ownerKinds is unset, and says what replaces it', () => {
    expect(rule({ catalog: { allowUserOwners: true } })).toEqual({
      ownerKinds: ['group', 'user'],
      deprecation: expect.stringContaining(
        'replace it with tensorflow.ownerKinds: [group, user]',
      ),
    });
    expect(rule({ catalog: { allowUserOwners: false } })).toEqual({
      ownerKinds: ['group'],
      deprecation: expect.stringContaining(
        'replace it with tensorflow.ownerKinds: [group]',
      ),
    });
  });

  it('accepts both keys when they agree (still deprecated), refuses them when they disagree', () => {
    expect(
      rule({
        ownerKinds: ['user', 'group'],
        catalog: { allowUserOwners: true },
      }).ownerKinds,
    ).toEqual(['user', 'group']);
    expect(() =>
      rule({ ownerKinds: ['group'], catalog: { allowUserOwners: true } }),
    ).toThrow(/these disagree/);
    expect(() =>
      rule({
        ownerKinds: ['group', 'user'],
        catalog: { allowUserOwners: false },
      }),
    ).toThrow(/these disagree/);
  });

  it('refuses unknown kinds, an empty list and a non-boolean allowUserOwners', () => {
    expect(() => rule({ ownerKinds: ['component'] })).toThrow(
      /tensorflow\.ownerKinds contains "component"/,
    );
    expect(() => rule({ ownerKinds: [] })).toThrow(
      /tensorflow\.ownerKinds is empty/,
    );
    expect(() => rule({ catalog: { allowUserOwners: 'maybe' } })).toThrow(
      /allowUserOwners/,
    );
  });

  it('reaches the naming options every action gets', () => {
    expect(
      readNamingOptions(
        new ConfigReader({
          tensorflow: { catalog: { allowUserOwners: true } },
        }),
      ).ownerKinds,
    ).toEqual(['group', 'user']);
    expect(
      readNamingOptions(new ConfigReader({}), ['group', 'user']).ownerKinds,
    ).toEqual(['group', 'user']);
  });
});
