import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSmoke, failureMessage } from './engine';
import {
  loadRuntime,
  planBackend,
  isInstalled,
  DeviceUnavailableError,
  CPU_PACKAGE,
  GPU_PACKAGE,
  detectAvailability,
} from './backend';
import { detectFormat } from './formats';
import { buildSmokeModels } from '../test/support/smokeModels';

let root: string;
let m: Awaited<ReturnType<typeof buildSmokeModels>>;
const fast = { runs: 3, warmupRuns: 1 };

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-engine-'));
  m = await buildSmokeModels(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const failed = (r: { checks: Array<{ id: string; passed: boolean }> }) =>
  r.checks.filter(c => !c.passed).map(c => c.id);

describe('formats', () => {
  it('detects each format from the files', () => {
    expect(detectFormat(m.dense)).toBe('layers-model');
    expect(detectFormat(m.graph)).toBe('graph-model');
    const saved = fs.mkdtempSync(path.join(root, 'saved-'));
    fs.writeFileSync(path.join(saved, 'saved_model.pb'), '');
    expect(detectFormat(saved)).toBe('saved-model');
    expect(() => detectFormat(path.join(root, 'missing'))).toThrow(
      /does not exist/,
    );
    const empty = fs.mkdtempSync(path.join(root, 'empty-'));
    expect(() => detectFormat(empty)).toThrow(
      /expected saved_model.pb .* or model.json/,
    );
  });

  it('runs a layers dense classifier and reports signature, timings, outputs and checks', async () => {
    const r = await runSmoke({ modelDir: m.dense, ...fast });
    expect(r).toMatchObject({
      tool: 'tf-smoke',
      mode: 'local',
      passed: true,
      model: { format: 'layers-model' },
      device: { kind: 'cpu' },
      nativePackage: null,
      signature: {
        inputs: [{ name: 'hidden_input', dtype: 'float32', shape: [-1, 4] }],
        outputs: [{ name: 'probs', dtype: 'float32', shape: [-1, 3] }],
      },
      inputs: [{ name: 'hidden_input', shape: [1, 4], source: 'synthesised' }],
      outputs: [{ name: 'probs', shape: [1, 3], nonFinite: 0 }],
    });
    expect(['wasm', 'cpu']).toContain(r.backend);
    expect(r.timings.runs).toBe(3);
    expect(r.timings.p50Ms).toBeGreaterThan(0);
    expect(r.timings.p95Ms).toBeGreaterThanOrEqual(r.timings.p50Ms!);
    expect(r.checks.map(c => c.id)).toEqual([
      'outputs',
      'finite',
      'deterministic',
      'no-leak',
    ]);
    expect(r.outputs[0].mean).toBeCloseTo(1 / 3, 5); // softmax rows sum to 1
  });

  it('runs a model with several named inputs, one of them int32', async () => {
    const r = await runSmoke({ modelDir: m.multi, ...fast });
    expect(r.passed).toBe(true);
    expect(r.signature.inputs).toEqual([
      { name: 'features', dtype: 'float32', shape: [-1, 4] },
      { name: 'token_ids', dtype: 'int32', shape: [-1, 3] },
    ]);
    expect(r.outputs.map(o => [o.name, o.shape])).toEqual([
      ['probs', [1, 3]],
      ['score', [1, 1]],
    ]);
  });

  it('runs a convolutional image model', async () => {
    const r = await runSmoke({ modelDir: m.conv, ...fast });
    expect(r.passed).toBe(true);
    expect(r.signature.inputs[0].shape).toEqual([-1, 16, 16, 1]);
    expect(r.outputs[0].shape).toEqual([1, 10]);
  });

  it('runs a graph model, reading the signature from model.json, on the same numbers as the layers model', async () => {
    const g = await runSmoke({
      modelDir: m.graph,
      ...fast,
      format: 'graph-model',
    });
    expect(g.passed).toBe(true);
    expect(g.signature.inputs).toEqual([
      { name: 'features', dtype: 'float32', shape: [-1, 4], tensorName: 'x:0' },
    ]);
    const l = await runSmoke({ modelDir: m.dense, ...fast });
    expect(g.outputs[0].sample).toHaveLength(3);
    // Same weights, same seeded input values (the generator is keyed by input name, so feed explicitly).
    const x = { values: [[0.1, 0.2, 0.3, 0.4]] };
    const g2 = await runSmoke({
      modelDir: m.graph,
      ...fast,
      inputs: { features: x },
    });
    const l2 = await runSmoke({
      modelDir: m.dense,
      ...fast,
      inputs: { hidden_input: x },
    });
    (g2.outputs[0].sample as number[]).forEach((v, i) =>
      expect(v).toBeCloseTo((l2.outputs[0].sample as number[])[i], 5),
    );
    expect(l.passed).toBe(true);
  });

  it('runs a graph model without a signature (placeholders in, leaf nodes out)', async () => {
    const r = await runSmoke({ modelDir: m.graphNoSignature, ...fast });
    expect(r.passed).toBe(true);
    expect(r.signature.outputs).toEqual([
      { name: 'probs/Softmax', dtype: 'unknown', shape: null },
    ]);
    expect(r.checks[0].reason).toMatch(/presence only/);
  });

  it('runs a graph model with dynamic ops through executeAsync', async () => {
    const r = await runSmoke({
      modelDir: m.graphDynamic,
      ...fast,
      inputs: { features: { values: [[0.1, 0.9, 0.2, 0.7]] } },
    });
    expect(r.passed).toBe(true);
    expect(r.signature.outputs).toEqual([
      {
        name: 'indices',
        dtype: 'int32',
        shape: [-1, 2],
        tensorName: 'indices:0',
      },
    ]);
    expect(r.outputs[0]).toMatchObject({ shape: [2, 2], sample: [0, 1, 0, 3] });
  });

  it('rejects a requested format that does not match the files', async () => {
    await expect(
      runSmoke({ modelDir: m.dense, ...fast, format: 'graph-model' }),
    ).rejects.toThrow(
      /format 'graph-model' was requested but .* holds a layers-model/,
    );
  });

  it('names the missing native package for a SavedModel when tfjs-node is absent', async () => {
    const saved = fs.mkdtempSync(path.join(root, 'saved-'));
    fs.writeFileSync(path.join(saved, 'saved_model.pb'), '');
    if (isInstalled(CPU_PACKAGE) || isInstalled(GPU_PACKAGE)) return;
    await expect(runSmoke({ modelDir: saved, ...fast })).rejects.toThrow(
      /SavedModel, which needs the native backend: install @tensorflow\/tfjs-node .* or @tensorflow\/tfjs-node-gpu/,
    );
  });

  // A real SavedModel needs @tensorflow/tfjs-node (it cannot be installed here: its install script
  // downloads libtensorflow) and a SavedModel fixture (none can be written without Python/TensorFlow).
  const hasTfjsNode = isInstalled(CPU_PACKAGE) || isInstalled(GPU_PACKAGE);
  const savedModelFixture = hasTfjsNode
    ? [
        path.join(
          path.dirname(require.resolve(`${CPU_PACKAGE}/package.json`)),
          'test_objects',
          'saved_model',
          'times_three_float',
        ),
      ].find(d => fs.existsSync(path.join(d, 'saved_model.pb')))
    : undefined;
  const savedModelTest = savedModelFixture ? test : test.skip;
  if (!savedModelFixture) {
    // eslint-disable-next-line no-console
    console.info(
      `SavedModel inference test skipped: ${hasTfjsNode ? 'no SavedModel fixture found in tfjs-node test_objects' : `${CPU_PACKAGE} is not installed`}`,
    );
  }
  savedModelTest(
    'SavedModel (skipped: needs @tensorflow/tfjs-node and a SavedModel fixture)',
    async () => {
      const r = await runSmoke({ modelDir: savedModelFixture!, ...fast });
      /* eslint-disable jest/no-standalone-expect -- savedModelTest is test or test.skip, chosen at run time; the rule cannot follow that */
      expect(r.model.format).toBe('saved-model');
      expect(r.backend).toBe('tensorflow');
      expect(r.signature.inputs.length).toBeGreaterThan(0);
      expect(r.passed).toBe(true);
      /* eslint-enable jest/no-standalone-expect */
    },
  );
});

describe('signature problems', () => {
  it('names an input of unknown rank, and accepts an explicit value for it', async () => {
    await expect(
      runSmoke({ modelDir: m.graphUnknownRank, ...fast }),
    ).rejects.toThrow(/input 'features' has an unknown rank/);
    const r = await runSmoke({
      modelDir: m.graphUnknownRank,
      ...fast,
      inputs: { features: { values: [[1, 2, 3, 4]] } },
    });
    expect(r.inputs[0]).toMatchObject({
      name: 'features',
      shape: [1, 4],
      source: 'explicit',
    });
  });

  it('names an input whose dtype tfjs cannot feed', async () => {
    await expect(runSmoke({ modelDir: m.graphHalf, ...fast })).rejects.toThrow(
      /input 'features' has dtype DT_HALF, which TensorFlow.js cannot feed/,
    );
  });
});

describe('checks fail on deliberately broken models', () => {
  it('NaN output fails the finite check', async () => {
    const r = await runSmoke({ modelDir: m.nan, ...fast });
    expect(r.passed).toBe(false);
    expect(failed(r)).toEqual(['finite']);
    expect(r.outputs[0].nonFinite).toBe(3);
    expect(failureMessage(r)).toMatch(
      /\[finite\] output 'probs' has 3 NaN\/Infinity value\(s\)/,
    );
  });

  it('an output whose shape differs from the signature fails the outputs check', async () => {
    const r = await runSmoke({ modelDir: m.graphWrongShape, ...fast });
    expect(failed(r)).toEqual(['outputs']);
    expect(r.checks[0].reason).toMatch(
      /output 'probs' has shape \[1,3\] but the signature declares \[\?,5\]/,
    );
  });

  it('a custom layer that keeps tensors fails the no-leak check', async () => {
    const r = await runSmoke({ modelDir: m.leaky, runs: 4, warmupRuns: 1 });
    expect(failed(r)).toEqual(['no-leak']);
    expect(r.checks.find(c => c.id === 'no-leak')!.reason).toMatch(
      /^4 tensor\(s\) were left allocated after 4 run\(s\)/,
    );
  });

  it('latency budget and expected output shape/range', async () => {
    const r = await runSmoke({
      modelDir: m.dense,
      ...fast,
      latencyBudgetMs: 0.000001,
      expectOutputs: { probs: { shape: [1, 3], min: 0, max: 0.1 }, nope: {} },
    });
    expect(
      r.checks
        .filter(c => c.id === 'latency' || c.id === 'expected-output')
        .map(c => [c.id, c.passed]),
    ).toEqual([
      ['latency', false],
      ['expected-output', false],
      ['expected-output', false],
    ]);
    expect(r.checks.find(c => c.id === 'latency')!.reason).toMatch(
      /exceeds the 0.000001 ms budget/,
    );
    expect(r.checks.filter(c => c.id === 'expected-output')[0].reason).toMatch(
      /maximum .* is above the expected 0.1/,
    );
    const ok = await runSmoke({
      modelDir: m.dense,
      ...fast,
      latencyBudgetMs: 60_000,
      expectOutputs: { probs: { shape: [-1, 3], min: 0, max: 1 } },
    });
    expect(ok.passed).toBe(true);
  });
});

describe('inputs', () => {
  it('synthesised inputs are reproducible for a seed and differ across seeds', async () => {
    const a = await runSmoke({ modelDir: m.dense, ...fast, seed: 7 });
    const b = await runSmoke({ modelDir: m.dense, ...fast, seed: 7 });
    const c = await runSmoke({ modelDir: m.dense, ...fast, seed: 8 });
    expect(a.outputs[0].sample).toEqual(b.outputs[0].sample);
    expect(a.outputs[0].sample).not.toEqual(c.outputs[0].sample);
  });

  it('uses explicit inputs (batch of 2, int32 values) and synthesises the rest', async () => {
    const r = await runSmoke({
      modelDir: m.multi,
      ...fast,
      inputs: {
        token_ids: {
          values: [
            [1, 2, 3],
            [4, 5, 6],
          ],
        },
      },
    });
    expect(r.inputs).toEqual([
      {
        name: 'features',
        dtype: 'float32',
        shape: [2, 4],
        source: 'synthesised',
      },
      { name: 'token_ids', dtype: 'int32', shape: [2, 3], source: 'explicit' },
    ]);
    expect(r.passed).toBe(true);
    expect(r.outputs.map(o => o.shape)).toEqual([
      [2, 3],
      [2, 1],
    ]);
    await expect(
      runSmoke({
        modelDir: m.multi,
        ...fast,
        inputs: {
          token_ids: {
            values: [
              [1, 2, 3],
              [4, 5, 6],
            ],
          },
          features: { values: [[1, 2, 3, 4]] },
        },
      }),
    ).rejects.toThrow(
      /explicit inputs disagree on the batch size: 'features' has 1, 'token_ids' has 2/,
    );
  });

  it('explicit inputs: a flat list takes the signature shape; mismatches name the input', async () => {
    const flat = await runSmoke({
      modelDir: m.dense,
      ...fast,
      inputs: { hidden_input: { values: [1, 2, 3, 4] } },
    });
    expect(flat.inputs[0].shape).toEqual([1, 4]);
    await expect(
      runSmoke({
        modelDir: m.dense,
        ...fast,
        inputs: { hidden_input: { values: [[1, 2, 3]] } },
      }),
    ).rejects.toThrow(
      /explicit input 'hidden_input' has shape \[1,3\] but the signature expects \[\?,4\]/,
    );
    await expect(
      runSmoke({
        modelDir: m.multi,
        ...fast,
        inputs: { token_ids: { values: [[1.5, 2, 3]] } },
      }),
    ).rejects.toThrow(/'token_ids' must hold integers/);
    await expect(
      runSmoke({
        modelDir: m.dense,
        ...fast,
        inputs: { pixels: { values: [1] } },
      }),
    ).rejects.toThrow(
      /'pixels' is not an input of the model \(inputs: hidden_input\)/,
    );
  });
});

describe('device policy', () => {
  it('plans backends from what is installed', () => {
    const none = { gpuPackage: false, cpuPackage: false };
    expect(planBackend('any', none)).toEqual({ kind: 'js' });
    expect(planBackend('cpu', none)).toEqual({ kind: 'js' });
    expect(() => planBackend('gpu', none)).toThrow(DeviceUnavailableError);
    expect(() =>
      planBackend('gpu', { gpuPackage: false, cpuPackage: true }),
    ).toThrow(
      /device 'gpu' was requested but no GPU backend is available: @tensorflow\/tfjs-node-gpu is not installed/,
    );
    expect(planBackend('any', { gpuPackage: true, cpuPackage: true })).toEqual({
      kind: 'native',
      pkg: GPU_PACKAGE,
    });
    expect(planBackend('gpu', { gpuPackage: true, cpuPackage: false })).toEqual(
      { kind: 'native', pkg: GPU_PACKAGE },
    );
    expect(planBackend('cpu', { gpuPackage: true, cpuPackage: true })).toEqual({
      kind: 'native',
      pkg: CPU_PACKAGE,
    });
    expect(planBackend('cpu', { gpuPackage: true, cpuPackage: false })).toEqual(
      { kind: 'js' },
    );
  });

  it('on this host (no native packages): gpu fails clearly, cpu and any run on the CPU', async () => {
    const available = detectAvailability();
    if (available.gpuPackage) return;
    await expect(
      runSmoke({ modelDir: m.dense, ...fast, device: 'gpu' }),
    ).rejects.toThrow(/no GPU backend is available/);
    const cpu = await runSmoke({
      modelDir: m.dense,
      ...fast,
      device: 'cpu',
      jsBackend: 'cpu',
    });
    expect(cpu).toMatchObject({
      backend: 'cpu',
      device: { kind: 'cpu' },
      passed: true,
    });
    const wasm = await runSmoke({
      modelDir: m.dense,
      ...fast,
      device: 'any',
      jsBackend: 'wasm',
    });
    expect(wasm).toMatchObject({
      backend: 'wasm',
      device: { kind: 'cpu' },
      passed: true,
    });
  });

  it('loads the native package through the loader when one is planned (broken install surfaces)', async () => {
    await expect(
      loadRuntime({
        device: 'cpu',
        availability: { gpuPackage: false, cpuPackage: true },
        load: () => {
          throw new Error(
            'The Node.js native addon module (tfjs_binding.node) can not be found',
          );
        },
      }),
    ).rejects.toThrow(/tfjs_binding.node/);
  });
});

describe('cancellation and dry run', () => {
  it('stops between runs when the signal aborts and leaves no tensors behind', async () => {
    const rt = await loadRuntime({});
    const before = rt.tf.memory().numTensors;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 5);
    await expect(
      runSmoke({
        modelDir: m.conv,
        runs: 100000,
        warmupRuns: 1,
        signal: ac.signal,
      }),
    ).rejects.toThrow(/cancelled/);
    expect(rt.tf.memory().numTensors).toBe(before);
    const pre = new AbortController();
    pre.abort();
    await expect(
      runSmoke({ modelDir: m.dense, signal: pre.signal }),
    ).rejects.toThrow(/cancelled/);
  });

  it('dry run reads the signature without inference', async () => {
    const r = await runSmoke({ modelDir: m.multi, dryRun: true });
    expect(r).toMatchObject({
      dryRun: true,
      passed: true,
      checks: [],
      outputs: [],
      timings: { runs: 0, p50Ms: null },
    });
    expect(r.signature.inputs.map(i => i.name)).toEqual([
      'features',
      'token_ids',
    ]);
  });
});
