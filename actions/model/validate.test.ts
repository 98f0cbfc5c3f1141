import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import { createModelValidateAction } from './validate';
import { starterModelDir } from '../../tools/starter-model/starter';
import { testProjectAccess } from '../../test/support/access/project';
import {
  actionContext,
  makeWorkspace,
  mockAuditor,
} from '../../test/support/actionContext';
import { buildSmokeModels } from '../../test/support/smokeModels';
import { startSmokeFileServer } from '../../test/support/smokeFileServer';

let root: string;
let m: Awaited<ReturnType<typeof buildSmokeModels>>;
let files: Awaited<ReturnType<typeof startSmokeFileServer>>;
let urlReader: ReturnType<typeof UrlReaders.default>;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-validate-'));
  m = await buildSmokeModels(root);
  files = await startSmokeFileServer(root);
  const port = new URL(files.url).port;
  urlReader = UrlReaders.default({
    config: new ConfigReader({
      backend: { reading: { allow: [{ host: `127.0.0.1:${port}` }] } },
    }),
    logger: mockServices.logger.mock(),
  });
});
afterAll(async () => {
  await files.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function workspaceWith(modelDir: string, to = 'model'): string {
  const ws = makeWorkspace('smoke-ws-');
  fs.cpSync(modelDir, path.join(ws, to), { recursive: true });
  return ws;
}
const fast = { runs: 3, warmupRuns: 1 };
const project = { name: 'fraud-detector', owner: 'group:default/ml-platform' };
const naming = { namespacePrefix: 'ml-' };

describe('tensorflow:model:validate', () => {
  it('declares both input and output schemas', () => {
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    expect(action.id).toBe('tensorflow:model:validate');
    expect(action.schema?.input).toBeDefined();
    expect(action.schema?.output).toBeDefined();
    expect(action.supportsDryRun).toBe(true);
  });

  it('validates the workspace model, outputs the key figures and writes an audited report', async () => {
    const auditor = mockAuditor();
    const action = createModelValidateAction({
      urlReader,
      auditor,
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, outputs, workspacePath } = actionContext(
      { ...project, ...fast },
      { workspacePath: workspaceWith(starterModelDir()) },
    );
    await action.handler(ctx as any);
    expect(outputs).toMatchObject({
      format: 'layers-model',
      device: 'cpu',
      passed: true,
      reportPath: 'smoke-report.json',
      signature: {
        name: 'serving_default',
        inputs: [{ name: 'features', dtype: 'float32', shape: [-1, 4] }],
        outputs: [{ name: 'probs', shape: [-1, 3] }],
      },
    });
    expect(outputs.p50Ms).toEqual(expect.any(Number));
    const report = JSON.parse(
      fs.readFileSync(path.join(workspacePath, 'smoke-report.json'), 'utf8'),
    );
    expect(report).toMatchObject({
      passed: true,
      model: { path: 'model' },
      timings: { runs: 3 },
    });
    expect(
      fs.readdirSync(workspacePath).filter(f => f.includes('.tmp')),
    ).toEqual([]);
    expect(auditor.createEvent).toHaveBeenCalledWith(
      expect.objectContaining({
        eventId: 'model-smoke-report-written',
        meta: expect.objectContaining({
          initiator: 'user:default/jdoe',
          taskId: 'task-1234',
          reportPath: 'smoke-report.json',
          passed: true,
        }),
      }),
    );
  });

  it('dry run reads the signature only: no inference, no file, no audit event', async () => {
    const auditor = mockAuditor();
    const action = createModelValidateAction({
      urlReader,
      auditor,
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, outputs, workspacePath } = actionContext(
      { ...project, modelPath: 'm' },
      { workspacePath: workspaceWith(m.multi, 'm'), isDryRun: true },
    );
    await action.handler(ctx as any);
    expect(outputs).toMatchObject({
      passed: true,
      p50Ms: null,
      p95Ms: null,
      signature: {
        inputs: [{ name: 'features' }, { name: 'token_ids', dtype: 'int32' }],
      },
    });
    expect(fs.existsSync(path.join(workspacePath, 'smoke-report.json'))).toBe(
      false,
    );
    expect(auditor.createEvent).not.toHaveBeenCalled();
  });

  it('a failing check fails the step with an actionable message, after writing the report', async () => {
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, workspacePath } = actionContext(
      { ...project, ...fast, reportPath: 'reports/smoke.json' },
      { workspacePath: workspaceWith(m.nan) },
    );
    await expect(action.handler(ctx as any)).rejects.toThrow(
      /smoke inference of model failed 1 check\(s\): \[finite\] output 'probs' has 3 NaN\/Infinity value\(s\)\. Check the weights.*Full report: reports\/smoke.json/,
    );
    expect(
      JSON.parse(
        fs.readFileSync(path.join(workspacePath, 'reports/smoke.json'), 'utf8'),
      ).passed,
    ).toBe(false);
  });

  it('explicit inputs and expected outputs; bad explicit input is an InputError naming the field', async () => {
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const ws = workspaceWith(starterModelDir());
    const ok = actionContext(
      {
        ...project,
        ...fast,
        inputs: { features: { values: [[0.1, 0.2, 0.3, 0.4]] } },
        expectOutputs: { probs: { shape: [1, 3], min: 0, max: 1 } },
      },
      { workspacePath: ws },
    );
    await action.handler(ok.ctx as any);
    expect(ok.outputs.passed).toBe(true);
    const bad = actionContext(
      { ...project, ...fast, inputs: { features: { values: [[1, 2]] } } },
      { workspacePath: ws },
    );
    await expect(action.handler(bad.ctx as any)).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(
        /^inputs\.features: explicit input 'features' has shape \[1,2\]/,
      ),
    });
  });

  it('rejects paths outside the workspace and bad options with InputError', async () => {
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const ws = workspaceWith(m.dense);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { modelPath: '../../etc' },
        /modelPath "..\/..\/etc" is outside the workspace/,
      ],
      [
        { reportPath: '../report.json' },
        /reportPath "..\/report.json" is outside the workspace/,
      ],
      [{ runs: 0 }, /runs must be a whole number from 1 to 200/],
      [
        { modelPath: 'model', modelUrl: 'https://example.com/m/model.json' },
        /either modelPath .* or modelUrl, not both/,
      ],
      [{ modelPath: 'missing' }, /modelPath: model folder .* does not exist/],
      [{ modelUrl: 'file:///etc/passwd' }, /modelUrl must be an http\(s\) URL/],
    ];
    for (const [input, msg] of cases) {
      const { ctx } = actionContext(
        { ...project, ...input },
        { workspacePath: ws },
      );
      await expect(action.handler(ctx as any)).rejects.toMatchObject({
        name: 'InputError',
        message: expect.stringMatching(msg),
      });
    }
  });

  it('device gpu fails with a clear message where no GPU backend is installed', async () => {
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx } = actionContext(
      { ...project, device: 'gpu' },
      { workspacePath: workspaceWith(m.dense) },
    );
    await expect(action.handler(ctx as any)).rejects.toThrow(
      /device 'gpu' was requested but no GPU backend is available: @tensorflow\/tfjs-node-gpu is not installed/,
    );
  });

  it('reads a model by URL through the UrlReader (model.json + shards)', async () => {
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx, outputs, workspacePath } = actionContext({
      ...project,
      ...fast,
      modelUrl: `${files.url}/graph/model.json`,
    });
    await action.handler(ctx as any);
    expect(outputs).toMatchObject({ format: 'graph-model', passed: true });
    expect(files.requests).toEqual(
      expect.arrayContaining([
        '/graph/model.json',
        '/graph/group1-shard1of1.bin',
      ]),
    );
    expect(fs.existsSync(path.join(workspacePath, 'smoke-report.json'))).toBe(
      true,
    );
  });

  it('rejects a URL outside backend.reading.allow, without fetching it or writing anything', async () => {
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const before = files.requests.length;
    const outside = files.url.replace('127.0.0.1', 'localhost');
    const { ctx, workspacePath } = actionContext({
      ...project,
      modelUrl: `${outside}/dense/model.json`,
    });
    await expect(action.handler(ctx as any)).rejects.toThrow(
      /Reading from 'http:\/\/localhost:\d+\/dense\/model.json' is not allowed.*backend.reading.allow/,
    );
    expect(files.requests.length).toBe(before);
    expect(
      fs.readdirSync(workspacePath).filter(f => f.endsWith('.json')),
    ).toEqual([]);
  });

  it('cancellation (ctx.signal) stops the run and writes nothing', async () => {
    const auditor = mockAuditor();
    const action = createModelValidateAction({
      urlReader,
      auditor,
      naming,
      projectAccess: testProjectAccess(),
      defaults: { maxRuns: 100000 },
    });
    const ac = new AbortController();
    const { ctx, workspacePath } = actionContext(
      { ...project, runs: 100000 },
      { workspacePath: workspaceWith(m.conv), signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 5);
    await expect(action.handler(ctx as any)).rejects.toThrow(/cancelled/);
    expect(fs.existsSync(path.join(workspacePath, 'smoke-report.json'))).toBe(
      false,
    );
    expect(auditor.createEvent).not.toHaveBeenCalled();
  });

  it("concurrent tasks in one backend do not see each other's tensors: each smoke runs in its own process", async () => {
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const runs = await Promise.all(
      // staggered, so one task loads its model (new weight tensors) while another is measuring
      [0, 1, 2, 3, 4, 5].map(async i => {
        await new Promise(r => setTimeout(r, i * 40));
        const { ctx, outputs } = actionContext(
          { ...project, runs: 200, warmupRuns: 1 },
          { workspacePath: workspaceWith(starterModelDir()) },
        );
        await action.handler(ctx as any);
        return outputs.passed;
      }),
    );
    expect(runs).toEqual([true, true, true, true, true, true]);
  });
});
