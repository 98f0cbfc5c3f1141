import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import { git } from '../../actions/shared/git';
import { api, repoRoot, runTask, startBackend, waitFor, waitForCatalog, type RunningBackend } from '../support/backend';

/**
 * "Create new model" through the real scaffolder and the real catalog: POST a task,
 * wait for it, and read the new entities back from the catalog API.
 */
describe('Create new model on a real backend', () => {
  let backend: RunningBackend;

  beforeAll(async () => {
    backend = await startBackend();
    await waitForCatalog(backend.baseUrl);
  });

  afterAll(async () => {
    await backend?.stop();
  });

  const values = {
    name: 'fraud-detector',
    description: 'Scores card transactions for fraud',
    owner: 'group:default/ml-platform',
    system: '',
    lifecycle: 'experimental',
  };

  it('registers the new project owned by the chosen group, committed by the initiator', async () => {
    const task = await runTask(backend.baseUrl, 'template:default/create-model', values);
    expect({ status: task.status, error: task.error }).toEqual({ status: 'completed', error: undefined });

    const component = await waitFor('the new component with its ownedBy relation', async () => {
      const r = await api(backend.baseUrl, '/api/catalog/entities/by-name/component/default/fraud-detector');
      const owned = r.body?.relations?.some((rel: any) => rel.type === 'ownedBy' && rel.targetRef === 'group:default/ml-platform');
      return r.status === 200 && owned ? r.body : undefined;
    });
    expect(component.spec.owner).toBe('group:default/ml-platform');

    const repo = path.join(backend.dataDir, 'repos', 'fraud-detector');
    const log = await git(['log', '--format=%an <%ae>'], { cwd: repo });
    expect(log.stdout.split('\n')[0]).toBe('Jane Doe <jane.doe@example.com>');
    const catalogInfo = yaml.parseAllDocuments(fs.readFileSync(path.join(repo, 'catalog-info.yaml'), 'utf8')).map(d => d.toJS());
    expect(catalogInfo.map((e: any) => e.metadata.name)).toContain('fraud-detector');

    const links = task.output.links as Array<{ title: string; entityRef?: string; url?: string }>;
    expect(links).toEqual(expect.arrayContaining([expect.objectContaining({ entityRef: 'component:default/fraud-detector' })]));

    const ours = backend.auditor.ours();
    expect(ours.filter(e => e.status === 'succeeded').map(e => e.eventId)).toEqual(
      expect.arrayContaining(['model-project-created', 'model-repository-published']),
    );
    for (const event of ours) {
      expect(event.meta).toMatchObject({ initiator: 'user:default/jdoe', taskId: task.id });
    }
  });

  it('runs the template through the dry-run endpoint without side effects', async () => {
    const template = yaml.parse(fs.readFileSync(path.join(repoRoot, 'templates/create-model/template.yaml'), 'utf8'));
    const reposBefore = fs.readdirSync(path.join(backend.dataDir, 'repos'));
    const r = await api(backend.baseUrl, '/api/scaffolder/v2/dry-run', {
      method: 'POST',
      json: { template, values: { ...values, name: 'dry-model' }, directoryContents: [] },
    });
    expect(r.status).toBe(200);
    const paths = (r.body.directoryContents as Array<{ path: string }>).map(f => f.path);
    expect(paths).toEqual(expect.arrayContaining(['catalog-info.yaml', 'README.md', 'src/train.py']));
    expect(fs.readdirSync(path.join(backend.dataDir, 'repos'))).toEqual(reposBefore);
    const missing = await api(backend.baseUrl, '/api/catalog/entities/by-name/component/default/dry-model');
    expect(missing.status).toBe(404);
  });

  it('refuses a name that is not a DNS label before anything runs', async () => {
    const r = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
      method: 'POST',
      json: { templateRef: 'template:default/create-model', values: { ...values, name: '../../etc' } },
    });
    // the scaffolder checks parameters against the template's schema before a task exists
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(/name/);
  });
});
