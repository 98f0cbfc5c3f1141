import fs from 'node:fs';
import path from 'node:path';
import { git } from '../../actions/shared/git';
import {
  runTask,
  startBackend,
  waitForCatalog,
  type RunningBackend,
} from '../support/backend';
import { registerTemplateVariant } from '../support/faults';

/** The provisioning record committed into the model repository tells the same story as the audit trail. */
describe('provisioning record on a real backend', () => {
  let backend: RunningBackend;
  let templateRef: string;

  beforeAll(async () => {
    backend = await startBackend();
    await waitForCatalog(backend.baseUrl);
    templateRef = await registerTemplateVariant(
      backend.baseUrl,
      path.join(backend.dataDir, 'templates'),
      'create-model-recorded',
      () => undefined,
    );
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('commits .backstage/provisioning.json with catalog-info.yaml, matching the audit events of the run', async () => {
    const task = await runTask(backend.baseUrl, templateRef, {
      name: 'audited-model',
      description: 'Audit trail check',
      owner: 'group:default/ml-platform',
      grants: [{ group: 'group:default/risk', scopes: ['predict'] }],
    });
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });

    const repo = path.join(backend.dataDir, 'repos', 'audited-model');
    const text = (
      await git(['show', 'HEAD:.backstage/provisioning.json'], { cwd: repo })
    ).stdout;
    const changed = (
      await git(['show', '--name-only', '--format=', 'HEAD'], { cwd: repo })
    ).stdout
      .trim()
      .split('\n')
      .sort();
    expect(changed).toEqual([
      '.backstage/provisioning.json',
      'catalog-info.yaml',
    ]);
    const record = JSON.parse(text);

    const ours = backend.auditor.ours().filter(e => e.meta?.taskId === task.id);
    const succeeded = (id: string) => {
      const found = ours.filter(
        e => e.eventId === id && e.status === 'succeeded',
      );
      expect(found).toHaveLength(1);
      return found[0].meta as any;
    };
    const identity = succeeded('identity-provisioned');
    const serving = succeeded('serving-endpoint-proposed');
    const register = succeeded('catalog-entities-registered');

    expect(record.provisionedBy).toBe('user:default/jdoe');
    expect(record.task.id).toBe(task.id);
    expect(record.task.url).toBe(
      `http://localhost:3000/create/tasks/${task.id}`,
    );
    for (const e of ours)
      expect(e.meta).toMatchObject({
        initiator: record.provisionedBy,
        taskId: record.task.id,
      });
    expect(record.identity.serviceAccount).toBe(identity.serviceAccount);
    expect(record.identity.grants).toEqual(identity.grants);
    expect(record.identity.grants['group:default/risk']).toEqual(['predict']);
    expect(record.identity.workloadIdentity.resources).toEqual(
      [...identity.identities].sort(),
    );
    expect(record.identity.gitops).toMatchObject({
      branch: identity.branch,
      commit: identity.commit,
      url: identity.url,
    });
    expect(record.project.namespace).toBe(serving.namespace);
    expect(record.serving.namespace).toBe(serving.namespace);
    expect(record.serving.gitops).toEqual({
      branch: serving.branch,
      commit: serving.commit,
      url: serving.url,
    });
    expect(record.catalog.location).toBe(register.location);
    expect(record.catalog.entityRefs).toEqual([...register.entityRefs].sort());
    // the GitOps commits named are the real ones on the project branch
    const gitops = path.join(backend.dataDir, 'gitops');
    const branchLog = (
      await git(['rev-list', `main..${serving.branch}`], { cwd: gitops })
    ).stdout
      .trim()
      .split('\n');
    expect(branchLog).toEqual(
      expect.arrayContaining([
        record.serving.gitops.commit,
        record.identity.gitops.commit,
      ]),
    );
    // when: the checkpointed time the catalog entities carry too
    const catalogInfo = fs.readFileSync(
      path.join(repo, 'catalog-info.yaml'),
      'utf8',
    );
    expect(catalogInfo).toContain(
      `provisioned-at: "${record.provisionedAt}"`.replace(/"/g, ''),
    );
    expect(Date.parse(record.provisionedAt)).not.toBeNaN();
    // no secrets: nothing that looks like a token or key
    expect(text).not.toMatch(/token|secret|password|BEGIN [A-Z ]*PRIVATE KEY/i);
  });
});
