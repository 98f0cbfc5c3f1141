/**
 * The project claim store on GitHub, against GitHub's OpenAPI description served by Prism
 * (every request is validated; a violation fails the test). Prism is stateless, so the test
 * steers its answers with the `Prefer` header: the claim ref is missing (404) on the first
 * look-up, and GitHub refuses a second create of the same ref with 422.
 */
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import {
  claimCommitMessage,
  type ProjectClaim,
} from '../../actions/access/claims';
import { createGithubClient } from '../../actions/shared/github/client';
import { GithubClaimStore } from '../../actions/gitops/claims';
import { usePrism } from '../support/prism';

const prism = usePrism();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const ours: ProjectClaim = {
  project: 'fraud-detector',
  owner: 'group:default/data-science',
  claimedBy: 'user:default/asmith',
  taskId: 'task-b',
  claimedAt: '2026-12-02T08:00:00.000Z',
};
const theirs: ProjectClaim = {
  ...ours,
  owner: 'group:default/ml-platform',
  claimedBy: 'user:default/jdoe',
  taskId: 'task-a',
};

function store(steer: { refLookups: number; createRef?: 'created' | 'taken' }) {
  const integrations = ScmIntegrations.fromConfig(
    new ConfigReader({
      integrations: {
        github: [
          { host: 'github.com', apiBaseUrl: prism.url, token: 'test-token' },
        ],
      },
    }),
  );
  return new GithubClaimStore({
    owner: 'acme',
    repo: 'gitops',
    baseBranch: 'main',
    client: async () => {
      const octokit = await createGithubClient(
        { host: 'github.com', owner: 'acme', repo: 'gitops' },
        {
          integrations,
          octokitOptions: {
            request: { fetch: prism.fetch, retries: 0 },
            throttle: { enabled: false },
            retry: { enabled: false },
            log: quiet,
          },
        },
      );
      octokit.hook.wrap('request', async (request, options) => {
        const route = `${options.method} ${options.url}`;
        const claimLookup =
          route === 'GET /repos/{owner}/{repo}/git/ref/{ref}' &&
          String(options.ref).startsWith('tensorflow/claims/');
        if (claimLookup && steer.refLookups-- > 0)
          options.headers = { ...options.headers, prefer: 'code=404' };
        if (
          route === 'POST /repos/{owner}/{repo}/git/refs' &&
          steer.createRef === 'taken'
        )
          options.headers = { ...options.headers, prefer: 'code=422' };
        const response = await request(options);
        // The winner's claim commit, which stateless Prism cannot hold: only the example's message is replaced.
        if (
          route === 'GET /repos/{owner}/{repo}/git/commits/{commit_sha}' &&
          steer.createRef === 'taken' &&
          steer.refLookups < 0
        ) {
          (response.data as { message: string }).message =
            claimCommitMessage(theirs);
        }
        return response;
      });
      return octokit;
    },
  });
}

describe('GithubClaimStore against the GitHub OpenAPI description', () => {
  beforeEach(() => prism.clear());

  it('claims a free name: a parentless commit carrying the claim, then an atomic create of its ref', async () => {
    const result = await store({ refLookups: 1, createRef: 'created' }).create(
      ours,
    );
    expect(result).toEqual({ created: true, claim: ours });
    expect(prism.calls().map(c => c.split(' ').slice(0, 2).join(' '))).toEqual([
      'GET /repos/acme/gitops/git/ref/tensorflow/claims/fraud-detector',
      'GET /repos/acme/gitops/git/ref/heads/main',
      expect.stringMatching(/^GET \/repos\/acme\/gitops\/git\/commits\//),
      'POST /repos/acme/gitops/git/commits',
      'POST /repos/acme/gitops/git/refs',
    ]);
    const body = (m: string, p: string) =>
      prism.requests.find(r => r.method === m && r.path === p)!.body as any;
    expect(body('POST', '/repos/acme/gitops/git/commits')).toMatchObject({
      parents: [],
      message: claimCommitMessage(ours),
    });
    expect(body('POST', '/repos/acme/gitops/git/refs')).toMatchObject({
      ref: 'refs/tensorflow/claims/fraud-detector',
    });
    // the base branch is never written
    expect(prism.calls().some(c => c.startsWith('PATCH '))).toBe(false);
  });

  it("loses a race: GitHub refuses the second create (422) and the winner's claim is read back", async () => {
    const result = await store({ refLookups: 1, createRef: 'taken' }).create(
      ours,
    );
    expect(result).toEqual({ created: false, claim: theirs });
    // The steered 422 is GitHub's "reference already exists", not a request Prism found invalid.
    const steered = prism.takeViolations();
    expect(steered.map(r => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /repos/acme/gitops/git/refs 422',
    ]);
    expect(steered[0].violations).toEqual([
      { message: 'HTTP 422 from Prism (request did not validate)' },
    ]);
  });

  it('an existing claim is read without writing anything', async () => {
    // No 404 steered: the ref exists (Prism's example), and its commit carries the winner's claim.
    const found = await store({ refLookups: -1, createRef: 'taken' }).get(
      'fraud-detector',
    );
    expect(found).toEqual(theirs);
    expect(prism.calls().every(c => c.startsWith('GET '))).toBe(true);
  });
});
