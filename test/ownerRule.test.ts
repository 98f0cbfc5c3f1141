/**
 * One owner rule (tensorflow.ownerKinds) for every action: with [group, user] a User owner is
 * accepted by every tensorflow:* action; with [group] every action refuses it at its first check,
 * before any side effect. (Before, register alone read tensorflow.catalog.allowUserOwners and
 * refused a User owner at the last step that the others had accepted.)
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  INITIATOR,
  catalogRegister,
  githubConfigure,
  identityProvision,
  modelCreate,
  modelValidate,
  repositoryPublish,
  sandboxDir,
  servingProvision,
  type HarnessOptions,
  type HostileHarness,
} from './support/hostileActions';

jest.setTimeout(60_000);

const skeletonsDir = path.resolve(__dirname, '../skeletons');
const USER_OWNER = INITIATOR; // the initiator owns the project themself
const sandboxes: string[] = [];

async function harnesses(opts: HarnessOptions): Promise<HostileHarness[]> {
  const box = (id: string) => {
    const d = sandboxDir(`owner-${id}`);
    sandboxes.push(d);
    return d;
  };
  return [
    modelCreate(box('create'), skeletonsDir, opts),
    modelValidate(box('validate'), opts),
    await repositoryPublish(box('publish'), opts),
    githubConfigure(box('configure'), opts),
    identityProvision(box('identity'), opts),
    servingProvision(box('serving'), opts),
    await catalogRegister(box('catalog'), opts),
  ];
}

/** The User owner's own grants: the base inputs grant ml-platform admin, which only the owner may hold. */
function userOwnedInput(h: HostileHarness): Record<string, unknown> {
  const input = structuredClone(h.base);
  if (h.id === 'tensorflow:catalog:register')
    (input.identity as Record<string, unknown>).grants = {
      'group:default/risk': ['predict'],
    };
  return input;
}

afterAll(() => {
  for (const d of sandboxes) fs.rmSync(d, { recursive: true, force: true });
});

describe('one owner rule: tensorflow.ownerKinds', () => {
  it('[group, user]: every action accepts a User owner (dry run)', async () => {
    const all = await harnesses({
      naming: { namespacePrefix: 'ml-', ownerKinds: ['group', 'user'] },
      owner: USER_OWNER,
    });
    expect(all).toHaveLength(7);
    // github:configure gets past every check: its dry run reads GitHub, which the harness refuses
    const githubRefused = expect.stringMatching(
      /GitHub was called with bad input: GET/,
    );
    const expected = (id: string) =>
      id === 'tensorflow:github:configure' ? githubRefused : 'none';
    for (const h of all) {
      const { error } = await h.run(userOwnedInput(h), { isDryRun: true });
      const outcome =
        error === undefined ? 'none' : String((error as Error).message);
      expect({ id: h.id, outcome }).toEqual({
        id: h.id,
        outcome: expected(h.id),
      });
    }
  });

  it('[group] (the default): every action refuses a User owner at its first check, with no side effect', async () => {
    const all = await harnesses({ owner: USER_OWNER });
    for (const h of all) {
      const { error, effects } = await h.run(userOwnedInput(h));
      expect({
        id: h.id,
        name: (error as Error)?.name,
        message: (error as Error)?.message,
      }).toEqual({
        id: h.id,
        name: 'InputError',
        message: `owner "${USER_OWNER}" is a user; the owner must be one of: group (for example "group:default/ml-platform")`,
      });
      expect(effects).toEqual({
        files: [],
        refs: [],
        catalogWrites: 0,
        auditSuccesses: 0,
        auditEvents: 0,
        githubRequests: [],
      });
    }
  });
});
