import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runEndpointSmoke, modelBaseUrl } from './endpoint';
import { runSmoke } from './engine';
import { parseTfJson, stringifyTfJson } from './tfjson';
import { buildSmokeModels } from '../test/support/smokeModels';
import {
  startTfServingServer,
  type TfServingServer,
} from '../test/support/tfServingServer';

let root: string;
let m: Awaited<ReturnType<typeof buildSmokeModels>>;
const servers: TfServingServer[] = [];
const serve = async (
  modelDir: string,
  modelName = 'fraud',
  loadingPolls = 0,
) => {
  const s = await startTfServingServer({ modelName, modelDir, loadingPolls });
  servers.push(s);
  return s;
};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-endpoint-'));
  m = await buildSmokeModels(root);
});
afterAll(async () => {
  await Promise.all(servers.map(s => s.close()));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('TF Serving endpoint mode', () => {
  it('waits for AVAILABLE, reads the signature from metadata, predicts and runs the checks', async () => {
    const s = await serve(m.multi, 'fraud', 2);
    const r = await runEndpointSmoke({
      endpoint: s.url,
      model: 'fraud',
      runs: 3,
      warmupRuns: 1,
      pollIntervalMs: 10,
    });
    expect(r).toMatchObject({
      mode: 'endpoint',
      passed: true,
      backend: 'tf-serving',
      model: { name: 'fraud', version: '1', format: 'tf-serving' },
    });
    expect(r.signature.inputs).toEqual([
      {
        name: 'features',
        dtype: 'float32',
        shape: [-1, 4],
        tensorName: 'serving_default_features:0',
      },
      {
        name: 'token_ids',
        dtype: 'int32',
        shape: [-1, 3],
        tensorName: 'serving_default_token_ids:0',
      },
    ]);
    expect(r.outputs.map(o => [o.name, o.shape])).toEqual([
      ['probs', [1, 3]],
      ['score', [1, 1]],
    ]);
    expect(r.checks.map(c => [c.id, c.passed])).toEqual([
      ['available', true],
      ['outputs', true],
      ['finite', true],
      ['deterministic', true],
    ]);
    expect(s.requests.filter(q => q === 'GET /v1/models/fraud')).toHaveLength(
      3,
    ); // LOADING, LOADING, AVAILABLE
    expect(s.requests).toContain('GET /v1/models/fraud/metadata');
    expect(
      s.requests.filter(q => q === 'POST /v1/models/fraud:predict'),
    ).toHaveLength(4);
  });

  it('gives the same numbers as the local engine on the same model and explicit input', async () => {
    const s = await serve(m.dense, 'dense');
    const x = { hidden_input: { values: [[0.5, 0.1, 0.9, 0.3]] } };
    const remote = await runEndpointSmoke({
      endpoint: s.url,
      model: 'dense',
      version: '1',
      runs: 2,
      warmupRuns: 1,
      inputs: x,
    });
    const local = await runSmoke({
      modelDir: m.dense,
      runs: 2,
      warmupRuns: 1,
      inputs: x,
    });
    (remote.outputs[0].sample as number[]).forEach((v, i) =>
      expect(v).toBeCloseTo((local.outputs[0].sample as number[])[i], 5),
    );
    // single output: TF Serving omits the name in "outputs"
    expect(remote.outputs[0].name).toBe('probs');
  });

  it('fails the finite check on a model that returns NaN (bare NaN tokens in the JSON)', async () => {
    const s = await serve(m.nan, 'nan');
    const r = await runEndpointSmoke({
      endpoint: s.url,
      model: 'nan',
      runs: 2,
      warmupRuns: 1,
    });
    expect(r.passed).toBe(false);
    expect(r.checks.filter(c => !c.passed).map(c => c.id)).toEqual(['finite']);
  });

  it('reports an unknown model with the server error, and an unknown signature with the available ones', async () => {
    const s = await serve(m.dense, 'dense');
    await expect(
      runEndpointSmoke({
        endpoint: s.url,
        model: 'other',
        availableTimeoutMs: 50,
        pollIntervalMs: 10,
      }),
    ).rejects.toThrow(
      /did not become AVAILABLE within 50 ms; last status: HTTP 404: Servable not found for request: Latest\(other\)/,
    );
    await expect(
      runEndpointSmoke({
        endpoint: s.url,
        model: 'dense',
        signatureName: 'classify',
      }),
    ).rejects.toThrow(
      /signature 'classify' not found .* available: serving_default, __saved_model_init_op/,
    );
  });

  it('dry run reads only status and metadata', async () => {
    const s = await serve(m.dense, 'dense');
    const r = await runEndpointSmoke({
      endpoint: s.url,
      model: 'dense',
      dryRun: true,
    });
    expect(r).toMatchObject({ dryRun: true, checks: [], timings: { runs: 0 } });
    expect(s.requests.some(q => q.includes(':predict'))).toBe(false);
  });

  it('builds model URLs per the REST API and rejects bad names', () => {
    expect(
      modelBaseUrl({ endpoint: 'http://h:8501/', model: 'm', version: '3' }),
    ).toBe('http://h:8501/v1/models/m/versions/3');
    expect(
      modelBaseUrl({ endpoint: 'http://h:8501', model: 'm', label: 'stable' }),
    ).toBe('http://h:8501/v1/models/m/labels/stable');
    expect(() => modelBaseUrl({ endpoint: 'http://h', model: 'a/b' })).toThrow(
      /not a valid TF Serving model name/,
    );
    expect(() => modelBaseUrl({ endpoint: 'file:///x', model: 'm' })).toThrow(
      /http\(s\)/,
    );
  });

  it('parses and writes TF Serving JSON with bare NaN/Infinity', () => {
    expect(
      parseTfJson('{"a":[NaN,-Infinity,Infinity,1],"s":"NaN \\" Infinity"}'),
    ).toEqual({ a: [NaN, -Infinity, Infinity, 1], s: 'NaN " Infinity' });
    expect(stringifyTfJson({ a: [NaN, 1, -Infinity] })).toBe(
      '{"a":[NaN,1,-Infinity]}',
    );
  });
});
