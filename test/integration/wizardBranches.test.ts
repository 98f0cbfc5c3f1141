import path from 'node:path';
import yaml from 'yaml';
import { git } from '../../actions/shared/git';
import {
  api,
  runTask,
  startBackend,
  waitForCatalog,
  type RunningBackend,
} from '../support/backend';

/**
 * The form keeps what a person typed in a branch they later left (custom sizing, an existing model's URL,
 * a GitHub repository) and submits it. Through the real scaffolder: only the chosen branch may run.
 */
describe('wizard branch switches on a real backend', () => {
  let backend: RunningBackend;

  beforeAll(async () => {
    backend = await startBackend();
    await waitForCatalog(backend.baseUrl);
  });

  afterAll(async () => {
    await backend?.stop();
  });

  const deployment = async (name: string) =>
    yaml.parse(
      (
        await git(
          [
            'show',
            `model/${name}:projects/ml-${name}/serving/deployment-${name}.yaml`,
          ],
          {
            cwd: path.join(backend.dataDir, 'gitops'),
          },
        )
      ).stdout,
    );
  const gpuLimit = (d: any) =>
    d.spec.template.spec.containers[0].resources.limits?.['nvidia.com/gpu'];
  const stepLog = (task: { events: any[] }, stepId: string) =>
    task.events
      .filter(e => e.type === 'log' && e.body?.stepId === stepId)
      .map(e => String(e.body.message))
      .join('\n');

  it('create-model: preset size, starter model and local repository win over values left in other branches', async () => {
    const values = {
      name: 'branch-switch',
      description: 'Left custom sizing, an existing model and GitHub behind',
      owner: 'group:default/ml-platform',
      // chose "existing" and typed a URL, then went back to the starter
      modelSource: 'starter',
      modelUrl: 'http://127.0.0.1:9/unreachable/model.json',
      // chose custom 4 x 1 GPU, then went back to the small preset
      sizing: 'preset',
      size: 'small',
      replicas: 4,
      gpus: 1,
      // picked a GitHub repository, then chose the local target
      publishTo: 'local',
      repoUrl: 'github.com?owner=acme&repo=branch-switch',
    };
    const task = await runTask(
      backend.baseUrl,
      'template:default/create-model',
      values,
    );
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });

    // what the form sent is still in the task (the scaffolder keeps it) ...
    const stored = await api(
      backend.baseUrl,
      `/api/scaffolder/v2/tasks/${task.id}`,
    );
    expect(stored.body.spec.parameters).toMatchObject({
      replicas: 4,
      gpus: 1,
      modelUrl: values.modelUrl,
    });
    // ... but what ran is the chosen branch: the starter model, 1 replica without GPU, a local repository
    expect(stepLog(task, 'validate')).toMatch(/Smoke inference of model/);
    expect(stepLog(task, 'validate')).not.toContain('unreachable');
    const d = await deployment('branch-switch');
    expect(d.spec.replicas).toBe(1);
    expect(gpuLimit(d)).toBeUndefined();
    expect(
      task.output.links.find((l: any) => l.title === 'Repository').url,
    ).toMatch(/^file:\/\/.*branch-switch/);
    for (const step of ['github', 'github-oidc']) {
      expect(stepLog(task, step)).toMatch(
        /Skipping step .* because its if condition was false/,
      );
    }
  });

  it('create-model: custom sizing wins over a preset chosen before', async () => {
    const task = await runTask(
      backend.baseUrl,
      'template:default/create-model',
      {
        name: 'branch-custom',
        description: 'Tried the large preset, then custom',
        owner: 'group:default/ml-platform',
        sizing: 'custom',
        size: 'large',
        replicas: 3,
        gpus: 0,
      },
    );
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    const d = await deployment('branch-custom');
    expect(d.spec.replicas).toBe(3);
    expect(gpuLimit(d)).toBeUndefined();
  });

  it('provision-endpoint: custom replicas after trying a preset, and a preset after trying custom', async () => {
    const custom = await runTask(
      backend.baseUrl,
      'template:default/provision-endpoint',
      {
        model: 'resource:default/branch-custom-model',
        environment: 'staging',
        sizing: 'custom',
        size: 'large',
        replicas: 3,
        gpus: 0,
        batching: false,
      },
    );
    expect({ status: custom.status, error: custom.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    let d = await deployment('branch-custom');
    expect(d.spec.replicas).toBe(3); // not the large preset's 2
    expect(gpuLimit(d)).toBeUndefined();

    const preset = await runTask(
      backend.baseUrl,
      'template:default/provision-endpoint',
      {
        model: 'resource:default/branch-custom-model',
        environment: 'staging',
        sizing: 'preset',
        size: 'medium',
        replicas: 4,
        gpus: 1,
        batching: false,
      },
    );
    expect({ status: preset.status, error: preset.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    d = await deployment('branch-custom');
    expect(d.spec.replicas).toBe(2); // medium: 2 replicas, CPU
    expect(gpuLimit(d)).toBeUndefined();
  });
});
