import fs from 'node:fs/promises';
import path from 'node:path';
import yaml from 'yaml';
import { createModelCreateAction } from './create';
import {
  actionContext,
  makeWorkspace,
  mockAuditor,
} from '../../test/support/actionContext';
import { testProjectAccess } from '../../test/support/access/project';

const skeletonsDir = path.resolve(__dirname, '../../skeletons');
const values = {
  name: 'fraud-detector',
  description: 'Scores card transactions',
  owner: 'group:default/ml-platform',
  system: '',
  lifecycle: 'experimental',
  modelName: 'fraud-detector',
};
const project = { name: values.name, owner: values.owner };
const naming = { namespacePrefix: 'ml-' };

describe('tensorflow:model:create', () => {
  it('declares input and output schemas', () => {
    const action = createModelCreateAction({
      skeletonsDir,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    expect(action.schema?.input).toBeDefined();
    expect(action.schema?.output).toBeDefined();
  });

  it('renders the packaged skeleton into the workspace with a valid catalog-info.yaml', async () => {
    const auditor = mockAuditor();
    const action = createModelCreateAction({
      skeletonsDir,
      auditor,
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, outputs, workspacePath } = actionContext({
      ...project,
      skeleton: 'model-project',
      values,
    });
    await action.handler(ctx as any);
    expect(outputs.targetPath).toBe('.');
    expect(outputs.files).toEqual(
      expect.arrayContaining([
        'catalog-info.yaml',
        'README.md',
        'src/train.py',
      ]),
    );
    const entity = yaml.parse(
      await fs.readFile(path.join(workspacePath, 'catalog-info.yaml'), 'utf8'),
    );
    expect(entity).toMatchObject({
      kind: 'Component',
      metadata: { name: 'fraud-detector' },
      spec: { owner: 'group:default/ml-platform' },
    });
    expect(entity.spec.system).toBeUndefined();
    expect(auditor.createEvent).toHaveBeenCalledWith(
      expect.objectContaining({
        eventId: 'model-project-created',
        meta: expect.objectContaining({
          initiator: 'user:default/jdoe',
          taskId: 'task-1234',
        }),
      }),
    );
  });

  it('renders into a sub-folder and reports workspace-relative paths', async () => {
    const action = createModelCreateAction({
      skeletonsDir,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, outputs, workspacePath } = actionContext({
      ...project,
      skeleton: 'model-project',
      targetPath: 'svc',
      values,
    });
    await action.handler(ctx as any);
    expect(outputs.files).toContain('svc/catalog-info.yaml');
    await expect(
      fs.access(path.join(workspacePath, 'svc/catalog-info.yaml')),
    ).resolves.toBeUndefined();
  });

  it('in dry run writes only inside the workspace it was given and returns the file list', async () => {
    const action = createModelCreateAction({
      skeletonsDir,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const before = await fs.readdir(path.dirname(skeletonsDir));
    const { ctx, outputs, workspacePath } = actionContext(
      { ...project, skeleton: 'model-project', values },
      { isDryRun: true },
    );
    await action.handler(ctx as any);
    expect((outputs.files as string[]).length).toBeGreaterThan(3);
    expect(await fs.readdir(workspacePath)).toContain('catalog-info.yaml');
    expect(await fs.readdir(path.dirname(skeletonsDir))).toEqual(before);
  });

  it('names the missing value and the file', async () => {
    const action = createModelCreateAction({
      skeletonsDir,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const { description: _omitted, ...withoutDescription } = values;
    const { ctx, workspacePath } = actionContext({
      ...project,
      skeleton: 'model-project',
      values: withoutDescription,
    });
    await expect(action.handler(ctx as any)).rejects.toThrow(
      /uses the value "description", which was not given/,
    );
    expect(await fs.readdir(workspacePath)).toEqual([]);
  });

  it('keeps an injection payload literal', async () => {
    const action = createModelCreateAction({
      skeletonsDir,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const payload = "{{constructor.constructor('return process')()}}";
    const { ctx, workspacePath } = actionContext({
      ...project,
      skeleton: 'model-project',
      values: { ...values, description: payload },
    });
    await action.handler(ctx as any);
    const readme = await fs.readFile(
      path.join(workspacePath, 'README.md'),
      'utf8',
    );
    expect(readme).toContain(payload);
    const entity = yaml.parse(
      await fs.readFile(path.join(workspacePath, 'catalog-info.yaml'), 'utf8'),
    );
    expect(entity.metadata.description).toBe(payload);
  });

  it.each([
    [
      { targetPath: '../outside' },
      /targetPath "..\/outside" is outside the workspace/,
    ],
    [
      { skeleton: 'missing' },
      /unknown skeleton "missing"; available skeletons: model-project/,
    ],
    [{ skeleton: '../../../etc' }, /outside the workspace/],
  ])('refuses bad input %j', async (override, message) => {
    const action = createModelCreateAction({
      skeletonsDir,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, workspacePath } = actionContext({
      ...project,
      skeleton: 'model-project',
      values,
      ...override,
    });
    await expect(action.handler(ctx as any)).rejects.toThrow(message);
    expect(await fs.readdir(workspacePath)).toEqual([]);
  });

  it('refuses to overwrite a changed file unless overwrite is set', async () => {
    const action = createModelCreateAction({
      skeletonsDir,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const workspacePath = makeWorkspace();
    await fs.writeFile(path.join(workspacePath, 'README.md'), 'mine');
    const first = actionContext(
      { ...project, skeleton: 'model-project', values },
      { workspacePath },
    );
    await expect(action.handler(first.ctx as any)).rejects.toThrow(
      /README\.md; choose another targetPath or set overwrite: true/,
    );
    expect(await fs.readdir(workspacePath)).toEqual(['README.md']);
    const second = actionContext(
      { ...project, skeleton: 'model-project', values, overwrite: true },
      { workspacePath },
    );
    await action.handler(second.ctx as any);
    expect(
      await fs.readFile(path.join(workspacePath, 'README.md'), 'utf8'),
    ).toContain('# fraud-detector');
  });

  it('does not write when the auditor fails', async () => {
    const auditor = mockAuditor();
    auditor.createEvent.mockRejectedValue(new Error('audit sink down'));
    const action = createModelCreateAction({
      skeletonsDir,
      auditor,
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, workspacePath } = actionContext({
      ...project,
      skeleton: 'model-project',
      values,
    });
    await expect(action.handler(ctx as any)).rejects.toThrow('audit sink down');
    expect(await fs.readdir(workspacePath)).toEqual([]);
  });
});
