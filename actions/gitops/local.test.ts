import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ownedPathPattern, readGitOpsConfig, renderGitOpsPath } from './config';
import { LocalGitOpsTarget } from './local';
import type { GitOpsChange } from './types';
import { ConfigReader } from '@backstage/config';

const run = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
  }).trim();

function change(
  files: Record<string, string>,
  extra: Partial<GitOpsChange> = {},
): GitOpsChange {
  return {
    branch: 'model/fraud-detector',
    title: 'Serving endpoint for fraud-detector',
    description: 'Creates namespace ml-fraud-detector',
    files: Object.entries(files).map(([p, content]) => ({ path: p, content })),
    initiator: 'user:default/alice',
    author: { name: 'alice', email: 'alice@users.backstage.local' },
    ...extra,
  };
}

describe('LocalGitOpsTarget', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitops-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates the repository, commits on the project branch naming the initiator, and leaves main alone', async () => {
    const repo = path.join(dir, 'gitops');
    const target = new LocalGitOpsTarget({ path: repo });
    const result = await target.propose(
      change({
        'projects/ml-fraud-detector/serving/namespace-ml-fraud-detector.yaml':
          'kind: Namespace\n',
      }),
    );
    expect(result).toMatchObject({
      target: 'local',
      branch: 'model/fraud-detector',
      changed: true,
    });
    expect(run(repo, 'rev-parse', 'refs/heads/model/fraud-detector')).toBe(
      result.commit,
    );
    expect(
      run(
        repo,
        'show',
        'model/fraud-detector:projects/ml-fraud-detector/serving/namespace-ml-fraud-detector.yaml',
      ),
    ).toBe('kind: Namespace');
    const message = run(
      repo,
      'log',
      '-1',
      '--format=%B',
      'model/fraud-detector',
    );
    expect(message).toContain('Serving endpoint for fraud-detector');
    expect(message).toContain('Initiated-by: user:default/alice');
    expect(
      run(repo, 'log', '-1', '--format=%an <%ae>', 'model/fraud-detector'),
    ).toBe('alice <alice@users.backstage.local>');
    // main exists, is the parent, and its worktree and index are untouched
    expect(run(repo, 'rev-parse', 'model/fraud-detector^')).toBe(
      run(repo, 'rev-parse', 'main'),
    );
    expect(run(repo, 'ls-tree', '-r', 'main')).toBe('');
    expect(run(repo, 'status', '--porcelain')).toBe('');
    expect(fs.readdirSync(repo)).toEqual(['.git']);
  });

  it('makes no new commit when re-run with identical files, and keeps files of other areas', async () => {
    const repo = path.join(dir, 'gitops');
    const target = new LocalGitOpsTarget({ path: repo });
    const identity = await target.propose(
      change({
        'projects/ml-fraud-detector/identity/serviceaccount-fraud-detector-serving.yaml':
          'kind: ServiceAccount\n',
      }),
    );
    const servingFiles = {
      'projects/ml-fraud-detector/serving/service-fraud-detector.yaml':
        'kind: Service\n',
      'projects/ml-fraud-detector/serving/poddisruptionbudget-fraud-detector.yaml':
        'kind: PodDisruptionBudget\n',
    };
    const owned = ownedPathPattern(
      'projects/{namespace}/{area}/{kind}-{name}.yaml',
      {
        namespace: 'ml-fraud-detector',
        project: 'fraud-detector',
        area: 'serving',
      },
    );
    const first = await target.propose(
      change(servingFiles, { ownedPaths: owned }),
    );
    expect(first.changed).toBe(true);
    expect(run(repo, 'rev-parse', `${first.commit}^`)).toBe(identity.commit);
    const count = run(repo, 'rev-list', '--count', 'model/fraud-detector');

    const again = await target.propose(
      change(servingFiles, { ownedPaths: owned }),
    );
    expect(again).toEqual({ ...first, changed: false });
    expect(run(repo, 'rev-list', '--count', 'model/fraud-detector')).toBe(
      count,
    );

    // replicas 2 -> 1: the PDB goes, the identity file stays
    const third = await target.propose(
      change(
        {
          'projects/ml-fraud-detector/serving/service-fraud-detector.yaml':
            'kind: Service\n',
        },
        { ownedPaths: owned },
      ),
    );
    expect(third.changed).toBe(true);
    expect(
      run(repo, 'ls-tree', '-r', '--name-only', 'model/fraud-detector').split(
        '\n',
      ),
    ).toEqual([
      'projects/ml-fraud-detector/identity/serviceaccount-fraud-detector-serving.yaml',
      'projects/ml-fraud-detector/serving/service-fraud-detector.yaml',
    ]);
  });

  it('does not disturb an existing checkout (dirty worktree, held index.lock) and serialises concurrent tasks', async () => {
    const repo = path.join(dir, 'existing');
    fs.mkdirSync(repo);
    run(repo, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'README.md'), 'hello\n');
    run(repo, 'add', 'README.md');
    run(
      repo,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@t',
      'commit',
      '-q',
      '-m',
      'init',
    );
    fs.writeFileSync(path.join(repo, 'README.md'), 'local edit\n');
    fs.writeFileSync(path.join(repo, '.git', 'index.lock'), '');
    const mainBefore = run(repo, 'rev-parse', 'main');

    const targets = [
      new LocalGitOpsTarget({ path: repo }),
      new LocalGitOpsTarget({ path: repo }),
    ];
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        targets[i % 2].propose(
          change(
            {
              [`projects/ml-p${i % 3}/serving/configmap-${i}.yaml`]: `n: ${i}\n`,
            },
            { branch: `model/p${i % 3}` },
          ),
        ),
      ),
    );
    expect(results.every(r => r.changed)).toBe(true);
    for (const p of [0, 1, 2]) {
      const files = run(
        repo,
        'ls-tree',
        '-r',
        '--name-only',
        `model/p${p}`,
      ).split('\n');
      expect(files).toEqual([
        'README.md',
        `projects/ml-p${p}/serving/configmap-${p}.yaml`,
        `projects/ml-p${p}/serving/configmap-${p + 3}.yaml`,
      ]);
    }
    expect(run(repo, 'rev-parse', 'main')).toBe(mainBefore);
    expect(fs.readFileSync(path.join(repo, 'README.md'), 'utf8')).toBe(
      'local edit\n',
    );
    expect(fs.existsSync(path.join(repo, '.git', 'index.lock'))).toBe(true);
    expect(
      fs.existsSync(path.join(repo, '.git', 'tensorflow-gitops.lock')),
    ).toBe(false);
  });

  it('waits for a lock held by another process, and gives up with a clear error after the timeout', async () => {
    const repo = path.join(dir, 'locked');
    await new LocalGitOpsTarget({ path: repo }).propose(
      change({ 'a/b.yaml': 'x: 1\n' }),
    );
    const lock = path.join(repo, '.git', 'tensorflow-gitops.lock');
    fs.writeFileSync(lock, '99999\n');
    const short = new LocalGitOpsTarget({ path: repo, lockTimeoutMs: 200 });
    await expect(
      short.propose(change({ 'a/c.yaml': 'x: 2\n' })),
    ).rejects.toThrow(/locked by another task/);
    const waiting = new LocalGitOpsTarget({ path: repo }).propose(
      change({ 'a/c.yaml': 'x: 2\n' }),
    );
    setTimeout(() => fs.rmSync(lock), 300);
    await expect(waiting).resolves.toMatchObject({ changed: true });
    expect(
      run(repo, 'ls-tree', '-r', '--name-only', 'model/fraud-detector').split(
        '\n',
      ),
    ).toEqual(['a/b.yaml', 'a/c.yaml']);
  });

  it('takes over a lock its holder stopped refreshing (a replica killed while committing)', async () => {
    const repo = path.join(dir, 'stale');
    await new LocalGitOpsTarget({ path: repo }).propose(
      change({ 'a/b.yaml': 'x: 1\n' }),
    );
    const lock = path.join(repo, '.git', 'tensorflow-gitops.lock');
    fs.mkdirSync(lock);
    const old = new Date(Date.now() - 20_000);
    fs.utimesSync(lock, old, old);
    const result = await new LocalGitOpsTarget({
      path: repo,
      lockTimeoutMs: 2_000,
    }).propose(change({ 'a/c.yaml': 'x: 2\n' }));
    expect(result.changed).toBe(true);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('creates its own repository in an empty folder inside another repository (e.g. .data/gitops in a checkout)', async () => {
    const outer = path.join(dir, 'outer');
    fs.mkdirSync(path.join(outer, '.data', 'gitops'), { recursive: true });
    run(outer, 'init', '-q', '-b', 'main');
    const target = new LocalGitOpsTarget({
      path: path.join(outer, '.data', 'gitops'),
    });
    await target.propose(change({ 'a.yaml': 'x: 1\n' }));
    expect(
      run(path.join(outer, '.data', 'gitops'), 'rev-parse', '--show-toplevel'),
    ).toBe(fs.realpathSync(path.join(outer, '.data', 'gitops')));
    expect(run(outer, 'branch', '--list')).toBe('');
  });

  it('rejects paths escaping the repository and bad branch names', async () => {
    const target = new LocalGitOpsTarget({ path: path.join(dir, 'r') });
    await expect(
      target.propose(change({ '../evil.yaml': 'x' })),
    ).rejects.toThrow(/normalised relative path/);
    await expect(
      target.propose(change({ 'a/.git/hooks/x': 'x' })),
    ).rejects.toThrow(/normalised relative path/);
    await expect(
      target.propose(change({ 'a.yaml': 'x' }, { branch: 'model/..bad' })),
    ).rejects.toThrow(/not a valid git branch/);
  });
});

describe('gitops config', () => {
  it('defaults to a local repository with no config at all', () => {
    expect(readGitOpsConfig(new ConfigReader({}))).toEqual({
      target: 'local',
      pathTemplate: 'projects/{namespace}/{area}/{kind}-{name}.yaml',
      local: { path: '.data/gitops', baseBranch: 'main' },
      github: undefined,
    });
  });

  it('reads the github target and names the offending key', () => {
    const gh = readGitOpsConfig(
      new ConfigReader({
        tensorflow: {
          gitops: {
            target: 'github',
            github: {
              repoUrl: 'github.com?owner=acme&repo=gitops',
              labels: ['ml'],
              pathTemplate: 'clusters/{namespace}/{area}/{kind}.{name}.yaml',
            },
          },
        },
      }),
    );
    expect(gh).toMatchObject({
      target: 'github',
      pathTemplate: 'clusters/{namespace}/{area}/{kind}.{name}.yaml',
      github: {
        repoUrl: 'github.com?owner=acme&repo=gitops',
        baseBranch: 'main',
        labels: ['ml'],
      },
    });
    expect(() =>
      readGitOpsConfig(
        new ConfigReader({ tensorflow: { gitops: { target: 'gitlab' } } }),
      ),
    ).toThrow(/tensorflow\.gitops\.target/);
    expect(() =>
      readGitOpsConfig(
        new ConfigReader({ tensorflow: { gitops: { target: 'github' } } }),
      ),
    ).toThrow(/tensorflow\.gitops\.github\.repoUrl/);
    expect(() =>
      readGitOpsConfig(
        new ConfigReader({
          tensorflow: {
            gitops: {
              pathTemplate: '../{namespace}/{area}/{kind}-{name}.yaml',
            },
          },
        }),
      ),
    ).toThrow(/tensorflow\.gitops\.pathTemplate/);
    expect(() =>
      readGitOpsConfig(
        new ConfigReader({
          tensorflow: { gitops: { pathTemplate: '{namespace}/{kind}.yaml' } },
        }),
      ),
    ).toThrow(/must contain \{area\}/);
  });

  it('renders paths and refuses values that are not single safe segments', () => {
    const t = 'projects/{namespace}/{area}/{kind}-{name}.yaml';
    const v = {
      namespace: 'ml-a',
      project: 'a',
      area: 'serving',
      kind: 'deployment',
      name: 'a',
    };
    expect(renderGitOpsPath(t, v)).toBe(
      'projects/ml-a/serving/deployment-a.yaml',
    );
    expect(() => renderGitOpsPath(t, { ...v, name: '../x' })).toThrow(
      /not a lowercase DNS-style name/,
    );
    expect(
      ownedPathPattern(t, v).test('projects/ml-a/serving/service-a.yaml'),
    ).toBe(true);
    expect(
      ownedPathPattern(t, v).test('projects/ml-a/identity/service-a.yaml'),
    ).toBe(false);
  });
});
