/**
 * Contract test of the GitHub GitOps target against GitHub's official OpenAPI description
 * (committed subset of @octokit/openapi) served by `prism mock`. Every request the target
 * makes is validated by Prism; any request violation fails the test (test/support/prism.ts).
 *
 * Prism is stateless and answers with GitHub's canned examples, so the TEST steers the
 * answers per request with Prism's `Prefer` header through an Octokit hook:
 *  - first run: `code=404` for the project branch look-up (branch does not exist yet) and
 *    `dynamic=true` for the open-PR look-up (random PRs, none with our head branch);
 *  - re-run: the plain examples, i.e. the branch exists and GitHub's example open PR
 *    (#1347, head `new-topic`) is listed for our head, so the project branch in this test
 *    is `new-topic`: the target must move that branch (PATCH) and update that PR instead
 *    of creating a second one.
 */
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { mockServices } from '@backstage/backend-test-utils';
import {
  createGithubClient,
  type GithubClient,
} from '../../actions/shared/github/client';
import { createGitOpsTarget, readGitOpsConfig } from '../../actions/gitops';
import { GitHubGitOpsTarget } from '../../actions/gitops/github';
import { ownedPathPattern } from '../../actions/gitops/config';
import type { GitOpsChange } from '../../actions/gitops/types';
import { usePrism } from '../support/prism';

const prism = usePrism();

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const BRANCH = 'new-topic';

function integrationsFor(url: string) {
  return ScmIntegrations.fromConfig(
    new ConfigReader({
      integrations: {
        github: [{ host: 'github.com', apiBaseUrl: url, token: 'test-token' }],
      },
    }),
  );
}

const change: GitOpsChange = {
  branch: BRANCH,
  title: 'Serving endpoint for fraud-detector',
  description:
    'Creates namespace ml-fraud-detector with a TF Serving deployment.',
  files: [
    {
      path: 'projects/ml-fraud-detector/serving/namespace-ml-fraud-detector.yaml',
      content: 'kind: Namespace\n',
    },
    {
      path: 'projects/ml-fraud-detector/serving/service-fraud-detector.yaml',
      content: 'kind: Service\n',
    },
  ],
  initiator: 'user:default/alice',
  author: { name: 'alice', email: 'alice@users.backstage.local' },
  labels: ['model-serving'],
  reviewers: ['ml-platform'],
  ownedPaths: ownedPathPattern(
    'projects/{namespace}/{area}/{kind}-{name}.yaml',
    {
      namespace: 'ml-fraud-detector',
      project: 'fraud-detector',
      area: 'serving',
    },
  ),
};

describe('GitHub GitOps target against the GitHub OpenAPI description', () => {
  let steering: 'fresh' | 'rerun' = 'fresh';

  function target() {
    return new GitHubGitOpsTarget({
      owner: 'acme',
      repo: 'gitops',
      baseBranch: 'main',
      labels: ['gitops'],
      client: async (): Promise<GithubClient> => {
        const octokit = await createGithubClient(
          { host: 'github.com', owner: 'acme', repo: 'gitops' },
          {
            integrations: integrationsFor(prism.url),
            octokitOptions: {
              request: { fetch: prism.fetch },
              throttle: { enabled: false },
              log: quiet,
            },
          },
        );
        // TEST-only steering of Prism's canned answers.
        octokit.hook.before('request', options => {
          const route = `${options.method} ${options.url}`;
          if (
            steering === 'fresh' &&
            route === 'GET /repos/{owner}/{repo}/git/ref/{ref}' &&
            options.ref === `heads/${BRANCH}`
          ) {
            options.headers.prefer = 'code=404';
          }
          if (
            steering === 'fresh' &&
            route === 'GET /repos/{owner}/{repo}/pulls'
          ) {
            options.headers.prefer = 'dynamic=true';
          }
        });
        return octokit;
      },
    });
  }

  it('creates the branch and one pull request, then on re-run reuses both', async () => {
    steering = 'fresh';
    const first = await target().propose(change);
    expect(first).toMatchObject({
      target: 'github',
      branch: BRANCH,
      changed: true,
      pullRequestNumber: 1347,
    });
    expect(first.url).toBe('https://github.com/octocat/Hello-World/pull/1347');
    const calls = prism.calls().map(c => c.replace(/[0-9a-f]{40}/g, '<sha>'));
    expect(calls).toEqual([
      'GET /repos/acme/gitops/git/ref/heads/main 200',
      'GET /repos/acme/gitops/git/ref/heads/new-topic 404',
      'GET /repos/acme/gitops/git/commits/<sha> 200',
      'GET /repos/acme/gitops/git/trees/<sha>?recursive=true 200',
      'POST /repos/acme/gitops/git/blobs 201',
      'POST /repos/acme/gitops/git/blobs 201',
      'POST /repos/acme/gitops/git/trees 201',
      'POST /repos/acme/gitops/git/commits 201',
      'POST /repos/acme/gitops/git/refs 201',
      'GET /repos/acme/gitops/pulls?state=open&head=acme%3Anew-topic&base=main&per_page=10 200',
      'POST /repos/acme/gitops/pulls 201',
      'POST /repos/acme/gitops/issues/1347/labels 200',
      'POST /repos/acme/gitops/pulls/1347/requested_reviewers 201',
    ]);
    const byRoute = (m: string, p: string) =>
      prism.requests.find(r => r.method === m && r.path.startsWith(p))!;
    expect(
      prism.requests.every(r => r.authorization === 'token test-token'),
    ).toBe(true);
    const tree = byRoute('POST', '/repos/acme/gitops/git/trees').body as any;
    expect(tree.base_tree).toMatch(/^[0-9a-f]{40}$/);
    expect(tree.tree.map((e: any) => e.path)).toEqual(
      change.files.map(f => f.path),
    );
    const commit = byRoute('POST', '/repos/acme/gitops/git/commits')
      .body as any;
    expect(commit.message).toContain('Initiated-by: user:default/alice');
    expect(commit.author).toEqual({
      name: 'alice',
      email: 'alice@users.backstage.local',
    });
    expect(byRoute('POST', '/repos/acme/gitops/git/refs').body).toMatchObject({
      ref: 'refs/heads/new-topic',
    });
    expect(byRoute('POST', '/repos/acme/gitops/pulls').body).toEqual({
      title: change.title,
      body: change.description,
      head: BRANCH,
      base: 'main',
    });
    expect(
      byRoute('POST', '/repos/acme/gitops/issues/1347/labels').body,
    ).toEqual({ labels: ['gitops', 'model-serving'] });
    expect(
      byRoute('POST', '/repos/acme/gitops/pulls/1347/requested_reviewers').body,
    ).toEqual({ team_reviewers: ['ml-platform'] });

    // Re-run of the same project: the branch and the open PR exist.
    prism.clear();
    steering = 'rerun';
    const second = await target().propose(change);
    expect(second).toMatchObject({
      target: 'github',
      branch: BRANCH,
      pullRequestNumber: 1347,
      url: first.url,
    });
    const rerun = prism.calls().map(c => c.replace(/[0-9a-f]{40}/g, '<sha>'));
    expect(rerun).toEqual([
      'GET /repos/acme/gitops/git/ref/heads/main 200',
      'GET /repos/acme/gitops/git/ref/heads/new-topic 200',
      'GET /repos/acme/gitops/git/commits/<sha> 200',
      'GET /repos/acme/gitops/git/trees/<sha>?recursive=true 200',
      'POST /repos/acme/gitops/git/blobs 201',
      'POST /repos/acme/gitops/git/blobs 201',
      'POST /repos/acme/gitops/git/trees 201',
      'POST /repos/acme/gitops/git/commits 201',
      'PATCH /repos/acme/gitops/git/refs/heads/new-topic 200',
      'GET /repos/acme/gitops/pulls?state=open&head=acme%3Anew-topic&base=main&per_page=10 200',
      'PATCH /repos/acme/gitops/pulls/1347 200',
      'POST /repos/acme/gitops/issues/1347/labels 200',
    ]);
    expect(
      rerun.filter(
        c =>
          c.startsWith('POST /repos/acme/gitops/pulls ') ||
          c.startsWith('POST /repos/acme/gitops/git/refs '),
      ),
    ).toEqual([]);
    expect(byRoute('PATCH', '/repos/acme/gitops/git/refs/').body).toMatchObject(
      { force: false },
    );
  });

  it('is wired by createGitOpsTarget from config and the GitHub integration', async () => {
    const config = readGitOpsConfig(
      new ConfigReader({
        tensorflow: {
          gitops: {
            target: 'github',
            github: { repoUrl: 'github.com?owner=acme&repo=gitops' },
          },
        },
      }),
    );
    const built = createGitOpsTarget(config, {
      integrations: integrationsFor(prism.url),
      logger: mockServices.logger.mock(),
      octokitOptions: {
        request: { fetch: prism.fetch },
        throttle: { enabled: false },
        log: quiet,
      },
    });
    expect(built.kind).toBe('github');
    // Without steering Prism says the branch and the PR exist: the factory-built target updates, never creates.
    prism.clear();
    const result = await built.propose(change);
    expect(result.pullRequestNumber).toBe(1347);
    expect(
      prism.calls().some(c => c.startsWith('POST /repos/acme/gitops/pulls ')),
    ).toBe(false);
  });

  it('fails a test when a request breaks the contract', async () => {
    const octokit = await createGithubClient(
      { host: 'github.com', owner: 'acme', repo: 'gitops' },
      {
        integrations: integrationsFor(prism.url),
        octokitOptions: {
          request: { fetch: prism.fetch },
          throttle: { enabled: false },
          log: quiet,
        },
      },
    );
    // createRef without the required sha: Prism rejects it.
    await expect(
      octokit.request('POST /repos/{owner}/{repo}/git/refs', {
        owner: 'acme',
        repo: 'gitops',
        ref: 'refs/heads/x',
      } as any),
    ).rejects.toMatchObject({ status: 422 });
    const bad = prism.takeViolations();
    expect(bad).toHaveLength(1);
    expect(JSON.stringify(bad[0].violations)).toMatch(/sha/);
  });
});
