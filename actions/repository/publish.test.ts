import fs from 'node:fs/promises';
import path from 'node:path';
import yaml from 'yaml';
import { git } from '../shared/git';
import { LocalRepositoryPublisher } from './local';
import { createRepositoryPublishAction } from './publish';
import { examples } from './publish.examples';
import {
  actionContext,
  makeWorkspace,
  mockAuditor,
} from '../../test/support/actionContext';
import { testProjectAccess } from '../../test/support/access/project';

const project = { name: 'fraud-detector', owner: 'group:default/ml-platform' };
const naming = { namespacePrefix: 'ml-' };

async function workspaceWith(files: Record<string, string>): Promise<string> {
  const ws = makeWorkspace();
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(ws, rel)), { recursive: true });
    await fs.writeFile(path.join(ws, rel), content);
  }
  return ws;
}

describe('tensorflow:repository:publish (local)', () => {
  it('commits the workspace as the initiator and converges on re-publish', async () => {
    const root = makeWorkspace('repos-');
    const publisher = new LocalRepositoryPublisher(root);
    const auditor = mockAuditor();
    const action = createRepositoryPublishAction({
      publishers: [publisher],
      auditor,
      naming,
      projectAccess: testProjectAccess(),
    });
    const workspacePath = await workspaceWith({
      'README.md': '# x\n',
      'src/a.py': 'print(1)\n',
    });

    const first = actionContext(
      { ...project, repoUrl: 'local?repo=fraud-detector' },
      { workspacePath, userRef: 'user:default/jdoe' },
    );
    await action.handler(first.ctx as any);
    const repo = path.join(root, 'fraud-detector');
    expect(first.outputs.remoteUrl).toBe(repo);
    const log = await git(['log', '--format=%an <%ae>|%s'], { cwd: repo });
    expect(log.stdout.trim()).toBe(
      'jdoe <jdoe@users.noreply.backstage.local>|Initial commit',
    );
    expect(
      await git(['show', 'HEAD:src/a.py'], { cwd: repo }).then(r => r.stdout),
    ).toBe('print(1)\n');
    expect(auditor.createEvent).toHaveBeenCalledWith(
      expect.objectContaining({ eventId: 'model-repository-published' }),
    );

    // a fresh task (no checkpoint) publishing the same files makes no new commit
    const second = actionContext(
      { ...project, repoUrl: 'local?repo=fraud-detector' },
      { workspacePath },
    );
    await action.handler(second.ctx as any);
    expect(second.outputs.commit).toBe(first.outputs.commit);
    expect(
      (await git(['rev-list', '--count', 'HEAD'], { cwd: repo })).stdout.trim(),
    ).toBe('1');
  });

  it('reuses the checkpoint on retry', async () => {
    const publisher = new LocalRepositoryPublisher(makeWorkspace('repos-'));
    const spy = jest.spyOn(publisher, 'publish');
    const action = createRepositoryPublishAction({
      publishers: [publisher],
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const workspacePath = await workspaceWith({ 'a.txt': 'a' });
    const checkpoints = new Map<string, unknown>();
    await action.handler(
      actionContext(
        { ...project, repoUrl: 'local?repo=m' },
        { workspacePath, checkpoints },
      ).ctx as any,
    );
    await action.handler(
      actionContext(
        { ...project, repoUrl: 'local?repo=m' },
        { workspacePath, checkpoints },
      ).ctx as any,
    );
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('has no side effect in dry run', async () => {
    const root = makeWorkspace('repos-');
    const action = createRepositoryPublishAction({
      publishers: [new LocalRepositoryPublisher(root)],
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, outputs } = actionContext(
      { ...project, repoUrl: 'local?repo=dry' },
      { isDryRun: true, workspacePath: await workspaceWith({ a: 'a' }) },
    );
    await action.handler(ctx as any);
    expect(outputs.commit).toMatch(/^0+$/);
    expect(await fs.readdir(root)).toEqual([]);
  });

  it.each([
    [
      { repoUrl: 'github.com?owner=o&repo=r' },
      /names no repository host this backend publishes to/,
    ],
    [
      { repoUrl: 'local?repo=../../etc' },
      /repoUrl repo "..\/..\/etc" is not a DNS-1123 label/,
    ],
    [
      { repoUrl: 'local?repo=ok', sourcePath: '../..' },
      /sourcePath "..\/.." is outside the workspace/,
    ],
    [
      { repoUrl: 'local?repo=ok', defaultBranch: 'a..b' },
      /defaultBranch "a..b" is not a valid branch name/,
    ],
  ])('refuses %j', async (input, message) => {
    const root = makeWorkspace('repos-');
    const action = createRepositoryPublishAction({
      publishers: [new LocalRepositoryPublisher(root)],
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    await expect(
      action.handler(actionContext({ ...project, ...input }).ctx as any),
    ).rejects.toThrow(message);
    expect(await fs.readdir(root)).toEqual([]);
  });

  it('commitFiles adds files to an existing repository and is a no-op when unchanged', async () => {
    const root = makeWorkspace('repos-');
    const publisher = new LocalRepositoryPublisher(root);
    const author = { name: 'jdoe', email: 'jdoe@example.com' };
    await publisher.publish({
      repoUrl: 'local?repo=r',
      sourceDir: await workspaceWith({ a: 'a' }),
      message: 'init',
      author,
    });
    const first = await publisher.commitFiles({
      repoUrl: 'local?repo=r',
      files: [{ path: 'catalog-info.yaml', content: 'x' }],
      message: 'register',
      author,
    });
    const second = await publisher.commitFiles({
      repoUrl: 'local?repo=r',
      files: [{ path: 'catalog-info.yaml', content: 'x' }],
      message: 'register',
      author,
    });
    expect(first.changed).toBe(true);
    expect(second).toEqual({ commit: first.commit, changed: false });
    expect(
      publisher.catalogLocation('local?repo=r', 'catalog-info.yaml'),
    ).toEqual({
      type: 'file',
      target: path.join(root, 'r', 'catalog-info.yaml'),
    });
    await expect(
      publisher.commitFiles({
        repoUrl: 'local?repo=r',
        files: [{ path: '../x', content: 'x' }],
        message: 'm',
        author,
      }),
    ).rejects.toThrow();
  });

  it.each(examples().map(e => [e.description, e] as const))(
    'example runs: %s',
    async (_d, example) => {
      const action = createRepositoryPublishAction({
        publishers: [new LocalRepositoryPublisher(makeWorkspace('repos-'))],
        auditor: mockAuditor(),
        naming,
        projectAccess: testProjectAccess(),
      });
      const input = yaml.parse(example.example).steps[0].input;
      const workspacePath = await workspaceWith({
        'project/README.md': '# x',
        'README.md': '# y',
      });
      const { ctx, outputs } = actionContext(
        { ...project, ...input },
        { workspacePath },
      );
      await action.handler(ctx as any);
      expect(outputs.commit).toMatch(/^[0-9a-f]{40}$/);
    },
  );
});
