import {
  checkConfigureInputs,
  checkTrustMatches,
  checkVariables,
  DEFAULT_RULESET_NAME,
  readTrust,
} from './configureInputs';
import { CI_SUBJECT_CLAIM_KEYS } from '../shared/github/oidc';

const trust = {
  ref: 'aws:arn:aws:iam::1:role/x',
  cloud: 'aws',
  repositoryId: 74,
  repositoryOwnerId: 65,
  claimKeys: [...CI_SUBJECT_CLAIM_KEYS],
};

describe('github configure inputs', () => {
  it('applies the defaults', () => {
    const c = checkConfigureInputs({});
    expect(c).toMatchObject({
      environments: ['staging', 'production'],
      rulesetName: DEFAULT_RULESET_NAME,
      trust: undefined,
      applyRuleset: true,
    });
    expect(c.slugOf('group:default/ML-Platform')).toBe('ml-platform');
    expect(
      checkConfigureInputs({
        teamSlugs: { 'group:default/ml-platform': 'ml-team' },
      }).slugOf('group:default/ml-platform'),
    ).toBe('ml-team');
  });

  it.each([
    [
      { environments: Array(21).fill('x') },
      /^environments must be a list of at most 20/,
    ],
    [
      { environments: ['a b'] },
      /^environments\[0\] "a b" is not a valid environment name/,
    ],
    [{ rulesetName: '../x' }, /^rulesetName "..\/x" is not a ruleset name/],
    [{ teamSlugs: ['x'] }, /^teamSlugs must be an object/],
    [
      { teamSlugs: { 'group:default/x': 'Bad Slug' } },
      /^teamSlugs.group:default\/x: "Bad Slug" is not a GitHub team slug/,
    ],
    [
      { serviceAccount: 'a b' },
      /^serviceAccount "a b" is not a service account reference/,
    ],
    [
      { endpoint: 'file:///etc/passwd' },
      /^endpoint "file:\/\/\/etc\/passwd" must be an http\(s\) URL/,
    ],
    [{ ciTrust: { ref: 'aws:x' } }, /^ciTrust must be the ciTrust output/],
    [{ ruleset: 'yes' }, /^ruleset must be true or false/],
  ])('refuses %j naming the field and the fix', (input, message) => {
    expect(() => checkConfigureInputs(input)).toThrow(message);
  });

  it('readTrust: empty means none', () => {
    expect(readTrust('')).toBeUndefined();
    expect(readTrust(trust)).toEqual(trust);
  });

  it('checkVariables: upper-case names, non-empty values', () => {
    expect(checkVariables({ MODEL_ENDPOINT: 'https://x' })).toEqual({
      MODEL_ENDPOINT: 'https://x',
    });
    expect(() => checkVariables({ lower: 'x' })).toThrow(/must be upper-case/);
    expect(() => checkVariables({ X: '' })).toThrow(
      /must be a non-empty string/,
    );
  });

  it('checkTrustMatches: the trust must pin this repository and our claim keys', () => {
    expect(
      checkTrustMatches(trust, {
        repositoryId: 74,
        repositoryOwnerId: 65,
        repoKey: 'acme/x',
      }),
    ).toEqual([...CI_SUBJECT_CLAIM_KEYS]);
    expect(() =>
      checkTrustMatches(trust, {
        repositoryId: 75,
        repositoryOwnerId: 65,
        repoKey: 'acme/x',
      }),
    ).toThrow(/pins repository 65\/74, but acme\/x is 65\/75/);
    expect(() =>
      checkTrustMatches(
        { ...trust, claimKeys: ['repo'] },
        { repositoryId: 74, repositoryOwnerId: 65, repoKey: 'acme/x' },
      ),
    ).toThrow(/expects claim keys repo/);
  });
});
