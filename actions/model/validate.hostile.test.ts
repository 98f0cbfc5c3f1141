/**
 * Hostile models against tensorflow:model:validate: each is refused within 10 s, with the backend's
 * memory bounded, a clear error, and no runner process or temp folder left behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import { createModelValidateAction } from './validate';
import { readSmokeDefaults } from './config';
import { liveRunners } from '../../smoke/sandbox';
import { testProjectAccess } from '../../test/support/access/project';
import {
  actionContext,
  makeWorkspace,
  mockAuditor,
} from '../../test/support/actionContext';
import {
  denseClassifier,
  heavyConvModel,
  hugeInputGraphModel,
  saveLayers,
  upsampleModel,
} from '../../test/support/smokeModels';
import { startSmokeFileServer } from '../../test/support/smokeFileServer';

let root: string;
let files: Awaited<ReturnType<typeof startSmokeFileServer>>;
let urlReader: ReturnType<typeof UrlReaders.default>;
const dirs: Record<string, string> = {};

const project = { name: 'fraud-detector', owner: 'group:default/ml-platform' };
const naming = { namespacePrefix: 'ml-' };
const tempModelDirs = () =>
  fs
    .readdirSync(os.tmpdir())
    .filter(f => f.startsWith('tf-smoke-model-'))
    .sort();
let tempBefore: string[];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-hostile-'));
  dirs.dense = await saveLayers(denseClassifier(), path.join(root, 'dense'));
  dirs.huge = hugeInputGraphModel(path.join(root, 'huge'));
  dirs.heavy = await saveLayers(
    heavyConvModel({ size: 192, filters: 32, layers: 8 }),
    path.join(root, 'heavy'),
  );
  dirs.upsample = await saveLayers(
    upsampleModel(80),
    path.join(root, 'upsample'),
  );
  // Served: a model.json whose weight path climbs out of its folder with an encoded "..", and the
  // file it aims at (real weights of the same model, so only the path check can stop it).
  fs.mkdirSync(path.join(root, 'private'));
  fs.copyFileSync(
    path.join(dirs.dense, 'weights.bin'),
    path.join(root, 'private', 'weights.bin'),
  );
  for (const [name, p] of [
    ['evil1', '%2e%2e/private/weights.bin'],
    ['evil2', '..%2fprivate%2fweights.bin'],
    ['evil3', '%252e%252e/private/weights.bin'],
    ['evil4', '.%2e/private/weights.bin'],
  ]) {
    const json = JSON.parse(
      fs.readFileSync(path.join(dirs.dense, 'model.json'), 'utf8'),
    );
    json.weightsManifest[0].paths = [p];
    fs.mkdirSync(path.join(root, name));
    fs.writeFileSync(path.join(root, name, 'model.json'), JSON.stringify(json));
  }
  files = await startSmokeFileServer(root);
  urlReader = UrlReaders.default({
    config: new ConfigReader({
      backend: {
        reading: { allow: [{ host: `127.0.0.1:${new URL(files.url).port}` }] },
      },
    }),
    logger: mockServices.logger.mock(),
  });
  tempBefore = tempModelDirs();
});
afterAll(async () => {
  await files.close();
  fs.rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  // nothing leaks: no runner process, no downloaded model (checked after every test, so the leaking test fails)
  // eslint-disable-next-line jest/no-standalone-expect -- a leak check in afterEach fails the test that leaked
  expect({ runners: liveRunners(), tempDirs: tempModelDirs() }).toEqual({
    runners: [],
    tempDirs: tempBefore,
  });
});

function workspaceWith(modelDir: string): string {
  const ws = makeWorkspace('smoke-hostile-ws-');
  fs.cpSync(modelDir, path.join(ws, 'model'), { recursive: true });
  return ws;
}

/** Runs the action; returns the error, how long it took and how much the test process grew. */
async function refused(
  input: Record<string, unknown>,
  opts: { workspacePath?: string; limits?: Record<string, number> } = {},
) {
  const action = createModelValidateAction({
    urlReader,
    auditor: mockAuditor(),
    naming,
    projectAccess: testProjectAccess(),
    defaults: { limits: opts.limits },
  });
  const { ctx, workspacePath } = actionContext(
    { ...project, runs: 3, warmupRuns: 1, ...input },
    { workspacePath: opts.workspacePath },
  );
  const rss0 = process.memoryUsage().rss;
  const t0 = Date.now();
  const error = await action.handler(ctx as any).then(
    () => undefined,
    (e: Error) => e,
  );
  const ms = Date.now() - t0;
  expect(error).toBeDefined();
  expect(ms).toBeLessThan(10_000);
  expect(process.memoryUsage().rss - rss0).toBeLessThan(200 * 1024 * 1024);
  expect(fs.existsSync(path.join(workspacePath, 'smoke-report.json'))).toBe(
    false,
  );
  return error!;
}

describe('tensorflow:model:validate refuses hostile models', () => {
  it('a declared 60000×60000 input: refused from model.json alone, naming maxInputBytes', async () => {
    const e = await refused({}, { workspacePath: workspaceWith(dirs.huge) });
    expect(e).toMatchObject({ name: 'InputError' });
    expect(e.message).toMatch(
      /^modelPath: the model was refused: the model's inputs need 13\.4 GiB per inference \(input 'x' float32 \[60000, 60000\].*the limit is 64\.0 MiB \(tensorflow\.smoke\.limits\.maxInputBytes\)/,
    );
  });

  it('the same model by URL: refused before any shard is read', async () => {
    const before = files.requests.length;
    const e = await refused({ modelUrl: `${files.url}/huge/model.json` });
    expect(e.message).toMatch(/tensorflow\.smoke\.limits\.maxInputBytes/);
    expect(files.requests.slice(before)).toEqual(['/huge/model.json']);
  });

  it('weights 8 MiB longer than model.json declares', async () => {
    const ws = workspaceWith(dirs.dense);
    fs.appendFileSync(
      path.join(ws, 'model', 'weights.bin'),
      Buffer.alloc(8 * 1024 * 1024, 7),
    );
    const e = await refused({}, { workspacePath: ws });
    expect(e.message).toMatch(
      /^modelPath: the weight files of weightsManifest\[0\] \(weights\.bin\) hold 8\.00 MiB but model\.json declares 268 bytes; the files do not belong to this model\.json/,
    );
  });

  it('weights longer than declared, by URL: the download stops at the declared size', async () => {
    const dir = path.join(root, 'long');
    fs.cpSync(dirs.dense, dir, { recursive: true });
    fs.appendFileSync(
      path.join(dir, 'weights.bin'),
      Buffer.alloc(8 * 1024 * 1024, 7),
    );
    const e = await refused({ modelUrl: `${files.url}/long/model.json` });
    expect(e.message).toMatch(
      /^modelUrl: the weight files of weightsManifest\[0\] \(weights\.bin\) hold at least [\d.]+ (KiB|MiB) but model\.json declares 268 bytes/,
    );
  });

  it('a weight file that is a symlink to a file outside the model folder', async () => {
    const ws = workspaceWith(dirs.dense);
    const outside = path.join(makeWorkspace('smoke-outside-'), 'secret.bin');
    // Same size as the real weights: only the link check can stop it.
    fs.copyFileSync(path.join(ws, 'model', 'weights.bin'), outside);
    fs.rmSync(path.join(ws, 'model', 'weights.bin'));
    fs.symlinkSync(outside, path.join(ws, 'model', 'weights.bin'));
    const e = await refused({}, { workspacePath: ws });
    expect(e.message).toMatch(
      /^modelPath: weight file "weights\.bin" is a link to a file outside the model folder$/,
    );
  });

  it('model.json itself, or the whole model folder, linked to outside the workspace', async () => {
    const ws = workspaceWith(dirs.dense);
    fs.rmSync(path.join(ws, 'model', 'model.json'));
    fs.symlinkSync(
      path.join(dirs.dense, 'model.json'),
      path.join(ws, 'model', 'model.json'),
    );
    expect((await refused({}, { workspacePath: ws })).message).toMatch(
      /model\.json is a link to a file outside the model folder/,
    );
    const ws2 = makeWorkspace('smoke-hostile-ws-');
    fs.symlinkSync(dirs.dense, path.join(ws2, 'model'));
    expect((await refused({}, { workspacePath: ws2 })).message).toMatch(
      /modelPath "model" is outside the workspace/,
    );
  });

  it.each([
    ['evil1', '%2e%2e/private/weights.bin'],
    ['evil2', '..%2fprivate%2fweights.bin'],
    ['evil3', '%252e%252e/private/weights.bin'],
    ['evil4', '.%2e/private/weights.bin'],
  ])(
    'an encoded traversal in a weight path read through the UrlReader (%s: %s)',
    async name => {
      const before = files.requests.length;
      const e = await refused({ modelUrl: `${files.url}/${name}/model.json` });
      expect(e.message).toMatch(
        /^modelUrl: model\.json lists weight file ".*", which (has an empty, "\." or "\.\." segment|is encoded twice); weight paths must be plain relative file names inside the model folder$/,
      );
      expect(files.requests.slice(before)).toEqual([`/${name}/model.json`]);
    },
  );

  it('a model that computes for ever: killed at the wall-time limit', async () => {
    const e = await refused(
      { runs: 100 },
      { workspacePath: workspaceWith(dirs.heavy), limits: { wallMs: 4000 } },
    );
    expect(e.message).toMatch(
      /^modelPath: the model was refused: the smoke run took longer than 4000 ms; the smoke runner was stopped; the limit is 4000 ms \(tensorflow\.smoke\.limits\.wallMs\)$/,
    );
  });

  it('a model whose output takes more memory than allowed: killed on its RSS', async () => {
    const e = await refused(
      {},
      {
        workspacePath: workspaceWith(dirs.upsample),
        limits: { memoryMb: 160 },
      },
    );
    expect(e.message).toMatch(
      /the model used [\d.]+ MiB of memory; the smoke runner was stopped; the limit is 160 MiB \(tensorflow\.smoke\.limits\.memoryMb\)$/,
    );
  });

  it('a tokened model URL: the token reaches no log line, audit event, output or report', async () => {
    const auditor = mockAuditor();
    const action = createModelValidateAction({
      urlReader,
      auditor,
      naming,
      projectAccess: testProjectAccess(),
    });
    const secret = 's3cr3t-T0KEN';
    const { ctx, outputs, workspacePath } = actionContext({
      ...project,
      runs: 3,
      warmupRuns: 1,
      modelUrl: `${files.url}/dense/model.json?token=${secret}#k=${secret}`,
    });
    const logged = jest.spyOn(ctx.logger, 'info');
    await action.handler(ctx as any);
    const report = fs.readFileSync(
      path.join(workspacePath, 'smoke-report.json'),
      'utf8',
    );
    expect(JSON.parse(report).model.path).toBe(
      `${files.url}/dense/model.json?…redacted`,
    );
    const seen = JSON.stringify([
      report,
      outputs,
      logged.mock.calls,
      (auditor.createEvent as jest.Mock).mock.calls,
    ]);
    expect(seen).toContain('?…redacted');
    expect(seen).not.toContain(secret);

    // and in a failure message
    const outside = files.url.replace('127.0.0.1', 'localhost');
    const e = await refused({
      modelUrl: `${outside.replace('//', `//bob:${secret}@`)}/dense/model.json?token=${secret}`,
    });
    expect(e.message).toMatch(
      /^modelUrl: Reading from 'http:\/\/localhost:\d+\/dense\/model\.json\?…redacted' is not allowed/,
    );
    expect(e.message + e.stack).not.toContain(secret);
    expect(e.message).not.toContain('bob');
  });

  it('the report is never written through a link out of the workspace', async () => {
    const ws = workspaceWith(dirs.dense);
    const outside = makeWorkspace('smoke-outside-');
    fs.symlinkSync(outside, path.join(ws, 'reports'));
    const e = await refused(
      { reportPath: 'reports/smoke.json' },
      { workspacePath: ws },
    );
    expect(e.message).toMatch(/reportPath.*outside the workspace/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('cancel kills the runner', async () => {
    const ac = new AbortController();
    const action = createModelValidateAction({
      urlReader,
      auditor: mockAuditor(),
      naming,
      projectAccess: testProjectAccess(),
    });
    const { ctx } = actionContext(
      { ...project, runs: 100 },
      { workspacePath: workspaceWith(dirs.heavy), signal: ac.signal },
    );
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 1500);
    await expect(action.handler(ctx as any)).rejects.toThrow(/cancelled/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('tensorflow.smoke.limits config', () => {
  it('reads the limits and names a bad key', () => {
    expect(
      readSmokeDefaults(
        new ConfigReader({
          tensorflow: { smoke: { limits: { wallMs: 5000, memoryMb: 512 } } },
        }),
      ).limits,
    ).toEqual({ wallMs: 5000, memoryMb: 512 });
    expect(() =>
      readSmokeDefaults(
        new ConfigReader({
          tensorflow: { smoke: { limits: { memoryMb: 0 } } },
        }),
      ),
    ).toThrow(
      /tensorflow\.smoke\.limits\.memoryMb is 0; give a whole number from 1 to 65536/,
    );
    expect(() =>
      readSmokeDefaults(
        new ConfigReader({
          tensorflow: { smoke: { limits: { memoryMB: 5 } } },
        }),
      ),
    ).toThrow(/tensorflow\.smoke\.limits\.memoryMB is not a known limit/);
  });
});
