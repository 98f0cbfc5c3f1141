import { InputError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { mockCredentials } from '@backstage/backend-test-utils';
import { DEFAULT_ACCESS_POLICY } from '../access/config';
import { deriveProject } from '../shared/naming';
import { ANNOTATIONS } from './entities';
import {
  GIT_BRANCH,
  LIFECYCLE_INPUT,
  checkGitOpsRef,
  checkIdentity,
  checkRegisterText,
  checkRepoUrl,
  checkServiceAccount,
  checkServing,
  checkSmoke,
  checkStepOutputs,
  checkUrl,
  githubSlug,
  orEmpty,
  provisioningDetails,
  resolveSignature,
} from './inputs';
import { catalogEntityNames } from './names';

const project = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  { namespacePrefix: 'ml-' },
);
const restUrl =
  'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501/v1/models/fraud-detector';

describe('catalog register inputs', () => {
  it('checkUrl: requires an absolute URL of an allowed scheme, at most 2000 characters', () => {
    expect(checkUrl('x', 'https://a.example/x', ['https:'])).toBe(
      'https://a.example/x',
    );
    expect(() => checkUrl('x', '', ['https:'])).toThrow(
      'x is required: give a URL',
    );
    expect(() => checkUrl('x', 'not a url', ['https:'])).toThrow(
      /x "not a url" is not a URL/,
    );
    expect(() => checkUrl('x', 'file:///etc', ['https:'])).toThrow(
      /must use https:/,
    );
    expect(() =>
      checkUrl('x', `https://a/${'a'.repeat(2000)}`, ['https:']),
    ).toThrow(/at most 2000/);
  });

  it('checkRegisterText: trims the description, defaults the lifecycle, refuses bad values naming the field', () => {
    expect(
      checkRegisterText(
        { description: ' Scores ', lifecycle: ' ' },
        'experimental',
      ),
    ).toEqual({
      description: 'Scores',
      lifecycle: 'experimental',
      system: undefined,
    });
    expect(
      checkRegisterText(
        { description: 'x', lifecycle: 'production', system: 'fraud' },
        'experimental',
      ),
    ).toEqual({ description: 'x', lifecycle: 'production', system: 'fraud' });
    expect(() =>
      checkRegisterText({ description: '  ' }, 'experimental'),
    ).toThrow(/^description is required/);
    expect(() =>
      checkRegisterText(
        { description: 'x', lifecycle: 'not valid' },
        'experimental',
      ),
    ).toThrow(/^lifecycle "not valid" is not a lifecycle/);
    expect(() =>
      checkRegisterText({ description: 'x', system: 42 }, 'experimental'),
    ).toThrow(/^system must be a System ref/);
  });

  it('the schema patterns accept what the checks accept', () => {
    for (const v of ['', ' ', 'experimental', ' production ', 'a.b-c_d'])
      expect(LIFECYCLE_INPUT.test(v)).toBe(true);
    for (const v of ['not valid', 'a..b', '-x'])
      expect(LIFECYCLE_INPUT.test(v)).toBe(false);
    expect(orEmpty(GIT_BRANCH).test('')).toBe(true);
    expect(orEmpty(GIT_BRANCH).test('model/fraud-detector')).toBe(true);
    expect(orEmpty(GIT_BRANCH).test('a b')).toBe(false);
  });

  it('checkRepoUrl: the publisher that handles it', () => {
    const publisher = {
      handles: (u: string) => u.startsWith('local?'),
      checkRepoUrl: jest.fn(),
    } as any;
    expect(checkRepoUrl('local?repo=x', [publisher])).toEqual({
      repoUrl: 'local?repo=x',
      publisher,
    });
    expect(publisher.checkRepoUrl).toHaveBeenCalledWith('local?repo=x');
    expect(() => checkRepoUrl('', [publisher])).toThrow(/^repoUrl is required/);
    expect(() => checkRepoUrl('ftp://x', [publisher])).toThrow(
      /not handled by any configured repository publisher/,
    );
  });

  it('checkStepOutputs: step outputs are objects', () => {
    expect(() =>
      checkStepOutputs({ serving: {}, identity: {}, model: {} }),
    ).not.toThrow();
    expect(() => checkStepOutputs({ serving: 'x' })).toThrow(
      /^serving must be/,
    );
    expect(() => checkStepOutputs({ identity: [] })).toThrow(
      /^identity must be/,
    );
    expect(() => checkStepOutputs({ model: 42 })).toThrow(/^model must be/);
  });

  it('checkServing: the project namespace and http(s) URLs', () => {
    expect(
      checkServing(
        { namespace: 'ml-fraud-detector', restUrl, grpcUrl: 'x:8500' },
        project,
      ),
    ).toEqual({ namespace: 'ml-fraud-detector', restUrl, grpcUrl: 'x:8500' });
    expect(() =>
      checkServing({ namespace: 'ml-other', restUrl }, project),
    ).toThrow(/does not match the project namespace/);
    expect(() =>
      checkServing(
        { namespace: 'ml-fraud-detector', restUrl, grpcUrl: 'a b' },
        project,
      ),
    ).toThrow(/^serving.grpcUrl/);
    expect(() =>
      checkServing(
        { namespace: 'ml-fraud-detector', restUrl: 'file:///x' },
        project,
      ),
    ).toThrow(/^serving.restUrl/);
  });

  it('checkServiceAccount / checkIdentity: only the project account, grants the policy allows', () => {
    for (const v of [
      'fraud-detector-serving',
      'ml-fraud-detector/fraud-detector-serving',
      'system:serviceaccount:ml-fraud-detector:fraud-detector-serving',
      { namespace: 'ml-fraud-detector', name: 'fraud-detector-serving' },
    ]) {
      expect(checkServiceAccount(v, project)).toBe('fraud-detector-serving');
    }
    expect(() =>
      checkServiceAccount('other/fraud-detector-serving', project),
    ).toThrow(/is not the project's service account/);
    expect(
      checkIdentity(undefined, project, DEFAULT_ACCESS_POLICY),
    ).toBeUndefined();
    expect(
      checkIdentity(
        {
          serviceAccount: 'fraud-detector-serving',
          grants: { 'group:default/risk': ['predict'] },
        },
        project,
        DEFAULT_ACCESS_POLICY,
      ),
    ).toEqual({
      serviceAccount: 'fraud-detector-serving',
      grants: { 'group:default/risk': ['predict'] },
    });
    expect(() =>
      checkIdentity(
        {
          serviceAccount: 'fraud-detector-serving',
          grants: { 'group:default/risk': ['root'] },
        },
        project,
        DEFAULT_ACCESS_POLICY,
      ),
    ).toThrow(/unknown scope "root"/);
  });

  it('checkSmoke: the task time as default date', () => {
    expect(checkSmoke(undefined, '2026-01-01T00:00:00Z')).toBeUndefined();
    expect(
      checkSmoke({ backend: 'cpu', device: 'cpu' }, '2026-01-01T00:00:00Z'),
    ).toEqual({
      backend: 'cpu',
      device: 'cpu',
      p50Ms: null,
      date: '2026-01-01T00:00:00Z',
    });
    expect(() =>
      checkSmoke(
        { backend: 'cpu', device: 'cpu', p50Ms: -1 },
        '2026-01-01T00:00:00Z',
      ),
    ).toThrow(/p50Ms/);
    expect(() =>
      checkSmoke({ backend: 'cpu', device: 'cpu', date: 'yesterday' }, 'x'),
    ).toThrow(/ISO-8601/);
  });

  it('checkGitOpsRef / provisioningDetails: plain values only, named by their input fields', () => {
    expect(checkGitOpsRef('f', undefined)).toBeUndefined();
    expect(
      checkGitOpsRef('f', { branch: 'model/x', commit: 'abcdef1', url: '' }),
    ).toEqual({ branch: 'model/x', commit: 'abcdef1' });
    expect(() => checkGitOpsRef('f', { commit: 'xyz' })).toThrow(
      /^f.commit must be a git commit id/,
    );
    const serving = {
      namespace: 'ml-fraud-detector',
      restUrl,
      gitopsUrl: 'https://git.example/pr/1',
    };
    const details = provisioningDetails(
      {
        serving: {
          ...serving,
          gitopsBranch: 'model/fraud-detector',
          gitopsCommit: 'abcdef1',
        },
        identity: { identities: { provider: 'aws', resources: ['r', 42] } },
      },
      project,
      { serviceAccount: 'fraud-detector-serving' },
      serving,
    );
    expect(details.identity).toEqual({
      serviceAccount: 'ml-fraud-detector/fraud-detector-serving',
      grants: undefined,
      identities: { provider: 'aws', principal: undefined, resources: ['r'] },
      gitops: undefined,
    });
    expect(details.serving?.gitops).toEqual({
      branch: 'model/fraud-detector',
      commit: 'abcdef1',
      url: 'https://git.example/pr/1',
    });
    expect(() =>
      provisioningDetails(
        { serving: { gitopsBranch: 'a b' } },
        project,
        undefined,
        serving,
      ),
    ).toThrow(/^serving.gitopsBranch/);
  });

  it('githubSlug: owner/repo of a GitHub repoUrl only', () => {
    expect(githubSlug('github.com?owner=acme&repo=x')).toBe('acme/x');
    expect(githubSlug('local?repo=x')).toBeUndefined();
  });

  it('resolveSignature: the input, else the stored annotation (with serving), refusing junk', async () => {
    const names = catalogEntityNames(project);
    const signature = {
      inputs: [{ name: 'features', dtype: 'float32', shape: [-1, 30] }],
      outputs: [{ name: 'score', dtype: 'float32', shape: [-1, 1] }],
    };
    const model = (annotation: string) =>
      catalogServiceMock({
        entities: [
          {
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'Resource',
            metadata: {
              name: names.model,
              namespace: 'default',
              annotations: { [ANNOTATIONS.signature]: annotation },
            },
            spec: {},
          },
        ],
      });
    const credentials = mockCredentials.user();
    expect((await resolveSignature(signature, undefined))?.inputs[0].name).toBe(
      'features',
    );
    expect(await resolveSignature(undefined, undefined)).toBeUndefined();
    expect(
      (
        await resolveSignature(undefined, {
          catalog: model(JSON.stringify(signature)),
          credentials,
          names,
        })
      )?.outputs[0].name,
    ).toBe('score');
    await expect(
      resolveSignature(undefined, { catalog: model('{'), credentials, names }),
    ).rejects.toThrow(InputError);
  });
});
