/**
 * GithubRepositoryPublisher against GitHub's official OpenAPI description served by Prism
 * (test/support/prism.ts validates every request; any violation fails the test), plus the
 * pure tree planning checked against git's own object ids.
 *
 * Prism is stateless and answers with GitHub's canned examples (repository octocat/Hello-World,
 * default branch "master"), so the test steers GitHub's "state" per request with `Prefer`:
 *  - new repository: 404 for the repository look-up and for our branch;
 *  - user-owned: 404 for GET /orgs/{org} (the owner is no organisation);
 *  - existing repository: the plain examples.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { ScmIntegrations } from '@backstage/integration';
import { usePrism } from '../../test/support/prism';
import { createGithubClient } from '../shared/github/client';
import {
  gitBlobSha,
  planTree,
  type ExistingEntry,
} from '../shared/github/commit';
import { GithubRepositoryPublisher, readRepositoryFiles } from './github';

const prism = usePrism();
const R = '/repos/acme/fraud-detector';
const author = { name: 'alice', email: 'alice@users.backstage.local' };
const SHA = /[0-9a-f]{40}/g;

type Steering = {
  routes: Record<string, string>;
  refs?: Record<string, string>;
};

function integrations() {
  return ScmIntegrations.fromConfig(
    new ConfigReader({
      integrations: {
        github: [
          { host: 'github.com', apiBaseUrl: prism.url, token: 'test-token' },
          {
            host: 'ghe.example.com',
            apiBaseUrl: prism.url,
            token: 'test-token',
          },
        ],
      },
    }),
  );
}

function publisher(
  steer: Steering = { routes: {} },
  visibility?: 'private' | 'public' | 'internal',
) {
  const regs = integrations();
  return new GithubRepositoryPublisher({
    integrations: regs,
    visibility,
    getClient: async target => {
      const octokit = await createGithubClient(target, {
        integrations: regs,
        octokitOptions: {
          request: { fetch: prism.fetch },
          throttle: { enabled: false },
          retry: { enabled: false },
        },
      });
      // TEST-only steering of Prism's canned answers.
      octokit.hook.before('request', options => {
        const route = `${options.method} ${options.url}`;
        let prefer = steer.routes[route];
        if (
          route === 'GET /repos/{owner}/{repo}/git/ref/{ref}' &&
          steer.refs?.[String(options.ref)]
        ) {
          prefer = steer.refs[String(options.ref)];
        }
        if (prefer) options.headers = { ...options.headers, prefer };
      });
      return octokit;
    },
  });
}

let workspace: string;
beforeAll(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'repo-github-'));
  fs.mkdirSync(path.join(workspace, 'model'), { recursive: true });
  fs.mkdirSync(path.join(workspace, '.git'));
  fs.writeFileSync(
    path.join(workspace, '.git', 'HEAD'),
    'ref: refs/heads/main\n',
  );
  fs.writeFileSync(path.join(workspace, 'README.md'), '# fraud-detector\n');
  fs.writeFileSync(
    path.join(workspace, 'model', 'weights.bin'),
    Buffer.from([0, 255, 1, 254, 0x89, 0x50, 0x4e, 0x47]),
  );
  fs.writeFileSync(path.join(workspace, 'run.sh'), '#!/bin/sh\necho serve\n', {
    mode: 0o755,
  });
});
afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }));
beforeEach(() => prism.clear());

const calls = () => prism.calls().map(c => c.replace(SHA, '<sha>'));
const body = (method: string, p: string) =>
  prism.requests.find(r => r.method === method && r.path === p)?.body as any;
const bodies = (method: string, p: string) =>
  prism.requests
    .filter(r => r.method === method && r.path === p)
    .map(r => r.body as any);

describe('readRepositoryFiles and planTree (pure, checked against git)', () => {
  it('reads every file as bytes with its git mode, without .git', async () => {
    const files = await readRepositoryFiles(workspace);
    expect(files.map(f => [f.path, f.mode])).toEqual([
      ['README.md', '100644'],
      ['model/weights.bin', '100644'],
      ['run.sh', '100755'],
    ]);
    expect(
      Buffer.isBuffer(files[1].content) && [...(files[1].content as Buffer)],
    ).toEqual([0, 255, 1, 254, 0x89, 0x50, 0x4e, 0x47]);
  });

  it('finds no change when the tree git builds from the same folder holds exactly these files', async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'repo-github-git-'));
    try {
      fs.cpSync(workspace, repo, {
        recursive: true,
        filter: s => path.basename(s) !== '.git',
      });
      const git = (...args: string[]) =>
        execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
      git('init', '--quiet');
      git('add', '--all');
      // The tree GitHub would list for this commit: `git ls-tree -r` gives mode, type, sha, path.
      const existing: ExistingEntry[] = git(
        'ls-tree',
        '-r',
        '-t',
        `${git('write-tree').trim()}`,
      )
        .trim()
        .split('\n')
        .map(line => {
          const [meta, p] = line.split('\t');
          const [mode, type, sha] = meta.split(' ');
          return { mode, type, sha, path: p };
        });
      const files = await readRepositoryFiles(workspace);
      for (const f of files)
        expect(existing).toContainEqual(
          expect.objectContaining({ path: f.path, sha: gitBlobSha(f.content) }),
        );

      expect(planTree(existing, false, files, 'replace')).toMatchObject({
        changed: false,
      });
      // The executable bit alone is a change; unchanged blobs are reused, never uploaded.
      const notExec = files.map(f =>
        f.path === 'run.sh' ? { ...f, mode: '100644' as const } : f,
      );
      const plan = planTree(existing, false, notExec, 'replace');
      expect(plan.changed).toBe(true);
      expect(plan.upload).toEqual([]);
      // A file removed from the workspace is a change in replace mode, not in overlay mode.
      expect(planTree(existing, false, files.slice(1), 'replace').changed).toBe(
        true,
      );
      expect(planTree(existing, false, files.slice(1), 'overlay').changed).toBe(
        false,
      );
      // A new file is uploaded; GitHub cut the listing short: cannot prove equality.
      const added = [...files, { path: 'new.txt', content: 'x\n' }];
      expect(planTree(existing, false, added, 'overlay')).toMatchObject({
        changed: true,
        upload: [added[3]],
      });
      expect(planTree(existing, true, files, 'replace').changed).toBe(true);
      expect(planTree(undefined, false, files, 'replace')).toMatchObject({
        changed: true,
        upload: files,
      });
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('GithubRepositoryPublisher against the GitHub OpenAPI description (Prism)', () => {
  it('first publish: repository missing → created (private, auto-init) → one parentless commit → branch created and made default', async () => {
    const result = await publisher({
      routes: { 'GET /repos/{owner}/{repo}': 'code=404' },
      refs: { 'heads/main': 'code=404' },
    }).publish({
      repoUrl: 'github.com?owner=acme&repo=fraud-detector',
      sourceDir: workspace,
      message: 'Initial commit',
      author,
      defaultBranch: 'main',
      description: 'Fraud detection model',
    });
    expect(calls()).toEqual([
      `GET ${R} 404`,
      'GET /orgs/acme 200',
      'POST /orgs/acme/repos 201',
      `GET ${R}/git/ref/heads/main 404`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/trees 201`,
      `POST ${R}/git/commits 201`,
      `POST ${R}/git/refs 201`,
      `PATCH ${R} 200`,
      // GitHub's example repository's default branch is "master": the auto-init branch goes.
      `DELETE ${R}/git/refs/heads/master 204`,
    ]);
    expect(
      prism.requests.every(r => r.authorization === 'token test-token'),
    ).toBe(true);
    expect(body('POST', '/orgs/acme/repos')).toEqual({
      name: 'fraud-detector',
      private: true,
      auto_init: true,
      description: 'Fraud detection model',
    });
    const blobs = bodies('POST', `${R}/git/blobs`);
    expect(blobs.every(b => b.encoding === 'base64')).toBe(true);
    expect(blobs.map(b => Buffer.from(b.content, 'base64'))).toEqual([
      Buffer.from('# fraud-detector\n'),
      Buffer.from([0, 255, 1, 254, 0x89, 0x50, 0x4e, 0x47]),
      Buffer.from('#!/bin/sh\necho serve\n'),
    ]);
    const tree = body('POST', `${R}/git/trees`);
    expect(tree.base_tree).toBeUndefined();
    expect(tree.tree.map((e: any) => [e.path, e.mode, e.type])).toEqual([
      ['README.md', '100644', 'blob'],
      ['model/weights.bin', '100644', 'blob'],
      ['run.sh', '100755', 'blob'],
    ]);
    const commit = body('POST', `${R}/git/commits`);
    expect(commit).toMatchObject({
      message: 'Initial commit',
      parents: [],
      author,
    });
    expect(commit.tree).toMatch(/^[0-9a-f]{40}$/);
    expect(body('POST', `${R}/git/refs`)).toEqual({
      ref: 'refs/heads/main',
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(body('PATCH', R)).toEqual({ default_branch: 'main' });
    expect(result).toEqual({
      repoUrl: 'github.com?owner=acme&repo=fraud-detector',
      // From GitHub's answer to the create call (Prism's example repository).
      remoteUrl: 'https://github.com/octocat/Hello-World.git',
      repoContentsUrl: 'https://github.com/octocat/Hello-World/tree/main',
      defaultBranch: 'main',
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      changed: true,
    });
  });

  it("first publish onto the auto-init branch replaces GitHub's initial commit (force, parentless); public when configured", async () => {
    const result = await publisher(
      { routes: { 'GET /repos/{owner}/{repo}': 'code=404' } },
      'public',
    ).publish({
      repoUrl: 'github.com?owner=acme&repo=fraud-detector',
      sourceDir: workspace,
      message: 'Initial commit',
      author,
    });
    expect(calls()).toEqual([
      `GET ${R} 404`,
      'GET /orgs/acme 200',
      'POST /orgs/acme/repos 201',
      `GET ${R}/git/ref/heads/master 200`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/trees 201`,
      `POST ${R}/git/commits 201`,
      `PATCH ${R}/git/refs/heads/master 200`,
    ]);
    expect(body('POST', '/orgs/acme/repos')).toEqual({
      name: 'fraud-detector',
      private: false,
      auto_init: true,
    });
    expect(body('POST', `${R}/git/commits`).parents).toEqual([]);
    expect(body('PATCH', `${R}/git/refs/heads/master`)).toMatchObject({
      force: true,
    });
    expect(result).toMatchObject({ defaultBranch: 'master', changed: true });
  });

  it('user-owned repository: owner is no organisation → created for the authenticated user; another user is refused', async () => {
    const steer = {
      routes: {
        'GET /repos/{owner}/{repo}': 'code=404',
        'GET /orgs/{org}': 'code=404',
      },
    };
    await publisher(steer).publish({
      repoUrl: 'github.com?owner=octocat&repo=fraud-detector',
      sourceDir: workspace,
      message: 'Initial commit',
      author,
    });
    expect(calls().slice(0, 4)).toEqual([
      'GET /repos/octocat/fraud-detector 404',
      'GET /orgs/octocat 404',
      'GET /user 200',
      'POST /user/repos 201',
    ]);
    expect(body('POST', '/user/repos')).toEqual({
      name: 'fraud-detector',
      private: true,
      auto_init: true,
    });

    prism.clear();
    await expect(
      publisher(steer).publish({
        repoUrl: 'github.com?owner=mallory&repo=x',
        sourceDir: workspace,
        message: 'm',
        author,
      }),
    ).rejects.toThrow(
      /"mallory" is neither an organisation .* nor the user it authenticates as \("octocat"\)/,
    );
    expect(calls()).toEqual([
      'GET /repos/mallory/x 404',
      'GET /orgs/mallory 404',
      'GET /user 200',
    ]);
  });

  it('re-publish to an existing repository (GitHub Enterprise host): no creation, one commit on top of the branch, ref moved', async () => {
    const p = publisher();
    const result = await p.publish({
      repoUrl: 'ghe.example.com?owner=acme&repo=fraud-detector',
      sourceDir: workspace,
      message: 'Update',
      author,
      defaultBranch: 'main',
    });
    expect(calls()).toEqual([
      `GET ${R} 200`,
      `GET ${R}/git/ref/heads/main 200`,
      `GET ${R}/git/commits/<sha> 200`,
      `GET ${R}/git/trees/<sha>?recursive=true 200`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/trees 201`,
      `POST ${R}/git/commits 201`,
      `PATCH ${R}/git/refs/heads/main 200`,
    ]);
    const head = prism.requests[1];
    expect(head.status).toBe(200);
    const parent = prism.requests[2].path.split('/').pop();
    expect(body('POST', `${R}/git/commits`).parents).toEqual([parent]);
    expect(body('PATCH', `${R}/git/refs/heads/main`)).toMatchObject({
      force: false,
    });
    expect(body('POST', `${R}/git/trees`).base_tree).toBeUndefined();
    expect(result).toMatchObject({
      changed: true,
      defaultBranch: 'main',
      remoteUrl: 'https://github.com/octocat/Hello-World.git',
    });
    expect(
      p.catalogLocation(
        'ghe.example.com?owner=acme&repo=fraud-detector',
        'catalog-info.yaml',
      ),
    ).toEqual({
      type: 'url',
      target:
        'https://ghe.example.com/acme/fraud-detector/blob/main/catalog-info.yaml',
    });
  });

  it('commitFiles adds a file on the default branch as one commit; catalogLocation points at it', async () => {
    const p = publisher();
    const result = await p.commitFiles({
      repoUrl: 'github.com?owner=acme&repo=fraud-detector',
      files: [
        {
          path: 'catalog-info.yaml',
          content: 'apiVersion: backstage.io/v1alpha1\nkind: Component\n',
        },
      ],
      message: 'Register in the catalog',
      author,
    });
    expect(calls()).toEqual([
      `GET ${R} 200`,
      `GET ${R}/git/ref/heads/master 200`,
      `GET ${R}/git/commits/<sha> 200`,
      `GET ${R}/git/trees/<sha>?recursive=true 200`,
      `POST ${R}/git/blobs 201`,
      `POST ${R}/git/trees 201`,
      `POST ${R}/git/commits 201`,
      `PATCH ${R}/git/refs/heads/master 200`,
    ]);
    expect(body('POST', `${R}/git/blobs`)).toEqual({
      content: 'apiVersion: backstage.io/v1alpha1\nkind: Component\n',
      encoding: 'utf-8',
    });
    const tree = body('POST', `${R}/git/trees`);
    expect(tree.base_tree).toMatch(/^[0-9a-f]{40}$/);
    expect(tree.tree).toEqual([
      {
        path: 'catalog-info.yaml',
        mode: '100644',
        type: 'blob',
        sha: expect.any(String),
      },
    ]);
    expect(result).toEqual({
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      changed: true,
    });
    expect(
      p.catalogLocation(
        'github.com?owner=acme&repo=fraud-detector',
        'catalog-info.yaml',
      ),
    ).toEqual({
      type: 'url',
      target:
        'https://github.com/acme/fraud-detector/blob/master/catalog-info.yaml',
    });
  });

  it('commitFiles refuses a missing repository and paths escaping it, before writing anything', async () => {
    const p = publisher({
      routes: { 'GET /repos/{owner}/{repo}': 'code=404' },
    });
    const req = {
      repoUrl: 'github.com?owner=acme&repo=fraud-detector',
      message: 'm',
      author,
    };
    await expect(
      p.commitFiles({ ...req, files: [{ path: 'a.yaml', content: 'x' }] }),
    ).rejects.toThrow(/does not exist yet; publish it before adding files/);
    await expect(
      p.commitFiles({
        ...req,
        files: [{ path: '../escape.yaml', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(InputError);
    expect(calls()).toEqual([`GET ${R} 404`]);
  });

  it('refuses a repoUrl for a host no GitHub integration knows, without a request', async () => {
    const p = publisher();
    const repoUrl = 'gitlab.example.com?owner=acme&repo=fraud-detector';
    expect(p.handles(repoUrl)).toBe(false);
    expect(p.handles('local?repo=fraud-detector')).toBe(false);
    expect(p.handles('ghe.example.com?owner=acme&repo=fraud-detector')).toBe(
      true,
    );
    const refused = p.publish({
      repoUrl,
      sourceDir: workspace,
      message: 'm',
      author,
    });
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(
      /no GitHub integration is configured for host "gitlab.example.com"/,
    );
    expect(() => p.catalogLocation(repoUrl, 'catalog-info.yaml')).toThrow(
      /gitlab.example.com/,
    );
    expect(() =>
      p.catalogLocation('github.com?owner=acme&repo=../x', 'catalog-info.yaml'),
    ).toThrow(InputError);
    expect(prism.requests).toEqual([]);
  });
});
