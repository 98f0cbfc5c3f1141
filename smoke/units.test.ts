import {
  checkDeterministic,
  checkOutputs,
  latencyStats,
  percentile,
  summarise,
} from './checks';
import { explicitInput, synthesise, seededRandom } from './inputs';
import {
  feedSpecs,
  shapeFromProto,
  signatureFromSignatureDef,
} from './signature';
import { formatReport } from './report';
import { nest, flattenNested } from './tfjson';

describe('smoke engine pure parts', () => {
  it('percentiles and latency stats', () => {
    const xs = [5, 1, 4, 2, 3, 10, 6, 7, 8, 9];
    expect(
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      ),
    ).toBe(5);
    expect(latencyStats(xs)).toEqual({ p50Ms: 5, p95Ms: 10, meanMs: 5.5 });
    expect(latencyStats([])).toEqual({
      p50Ms: null,
      p95Ms: null,
      meanMs: null,
    });
  });

  it('seeded generator: reproducible per seed and input name, dtype ranges respected', () => {
    expect(Array.from({ length: 3 }, seededRandom(1))).toEqual(
      Array.from({ length: 3 }, seededRandom(1)),
    );
    const a = synthesise({ name: 'x', dtype: 'int32', shape: [2, 50] }, 3, {
      intMax: 5,
    });
    expect(a.values).toEqual(
      synthesise({ name: 'x', dtype: 'int32', shape: [2, 50] }, 3, {
        intMax: 5,
      }).values,
    );
    expect(Array.from(a.values as Int32Array).every(v => v >= 0 && v < 5)).toBe(
      true,
    );
    expect(
      synthesise({ name: 'y', dtype: 'int32', shape: [100] }, 3).values,
    ).not.toEqual(a.values);
    const f = synthesise({ name: 'x', dtype: 'float32', shape: [100] }, 3)
      .values as Float32Array;
    expect(Array.from(f).every(v => v >= 0 && v < 1)).toBe(true);
    expect(
      synthesise({ name: 'b', dtype: 'bool', shape: [4] }, 1).values,
    ).toBeInstanceOf(Uint8Array);
  });

  it('explicit bool and string inputs', () => {
    expect(
      explicitInput(
        { name: 'm', dtype: 'bool', shape: [1, 2] },
        { values: [[true, false]] },
        [-1, 2],
      ).values,
    ).toEqual(Uint8Array.from([1, 0]));
    expect(() =>
      explicitInput(
        { name: 's', dtype: 'string', shape: [1] },
        { values: [1] },
        [-1],
      ),
    ).toThrow(/'s' must hold strings/);
    expect(() =>
      explicitInput(
        { name: 'x', dtype: 'float32', shape: [1, 2] },
        { values: [1, 2, 3], shape: [1, 2] },
        [-1, 2],
      ),
    ).toThrow(/3 values, which does not fill shape \[1,2\]/);
  });

  it('reads TF Serving (snake_case) and TF.js (camelCase) signatures; unknown dims become 1 with a note', () => {
    expect(
      shapeFromProto({
        dim: [{ size: '-1' }, { size: '3' }],
        unknown_rank: false,
      }),
    ).toEqual([-1, 3]);
    expect(shapeFromProto({ unknownRank: true })).toBeNull();
    const sig = signatureFromSignatureDef('serving_default', {
      inputs: {
        img: {
          dtype: 'DT_UINT8',
          tensor_shape: {
            dim: [{ size: '-1' }, { size: '-1' }, { size: '3' }],
          },
        },
      },
      outputs: {
        y: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1' }] } },
      },
    });
    expect(sig.inputs[0]).toEqual({
      name: 'img',
      dtype: 'int32',
      shape: [-1, -1, 3],
    });
    expect(feedSpecs(sig)).toEqual({
      feeds: [{ name: 'img', dtype: 'int32', shape: [1, 1, 3] }],
      notes: ["input 'img': unknown dimension 1 set to 1"],
    });
  });

  it('checks: missing output, determinism beyond tolerance, NaN in both runs', () => {
    const sig = {
      name: 's',
      inputs: [],
      outputs: [
        { name: 'a', dtype: 'float32', shape: [-1, 2] },
        { name: 'b', dtype: 'float32', shape: [-1] },
      ],
    };
    expect(
      checkOutputs(sig, [
        { name: 'a', dtype: 'float32', shape: [1, 2], values: [1, 2] },
      ]),
    ).toMatchObject({
      passed: false,
      reason: expect.stringMatching(/output 'b' is missing/),
    });
    const run = (v: number[]) => [
      { name: 'a', dtype: 'float32', shape: [v.length], values: v },
    ];
    expect(
      checkDeterministic(run([1, 2]), run([1, 2.1]), {
        absolute: 1e-5,
        relative: 1e-4,
      }),
    ).toMatchObject({
      passed: false,
      reason: expect.stringMatching(/'a' differs by 0.1/),
    });
    expect(
      checkDeterministic(run([1, 2]), run([1, 2 + 1e-7]), {
        absolute: 1e-5,
        relative: 1e-4,
      }).passed,
    ).toBe(true);
    expect(
      checkDeterministic(run([NaN]), run([NaN]), { absolute: 0, relative: 0 })
        .passed,
    ).toBe(true);
    expect(
      checkDeterministic(run([1]), run([NaN]), { absolute: 0, relative: 0 })
        .passed,
    ).toBe(false);
    expect(
      summarise({
        name: 'a',
        dtype: 'float32',
        shape: [3],
        values: [1, NaN, 3],
      }),
    ).toMatchObject({
      min: 1,
      max: 3,
      mean: 2,
      nonFinite: 1,
      sample: [1, 'NaN', 3],
    });
  });

  it('nests and flattens tensors as JSON', () => {
    const nested = nest([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(nested).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(flattenNested(nested)).toEqual({
      shape: [2, 3],
      values: [1, 2, 3, 4, 5, 6],
    });
    expect(() => flattenNested([[1, 2], [3]])).toThrow(/ragged/);
  });

  it('formats a human-readable report', () => {
    const text = formatReport({
      tool: 'tf-smoke',
      reportVersion: 1,
      mode: 'local',
      dryRun: false,
      model: { path: 'model', format: 'layers-model' },
      backend: 'wasm',
      nativePackage: null,
      device: { kind: 'cpu' },
      signature: {
        name: 'serving_default',
        inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 4] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 3] }],
      },
      seed: 42,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 4], source: 'synthesised' },
      ],
      timings: {
        loadMs: 1,
        warmupMs: 2,
        runs: 3,
        p50Ms: 0.5,
        p95Ms: 0.7,
        meanMs: 0.55,
      },
      outputs: [],
      checks: [{ id: 'finite', passed: false, reason: 'NaN' }],
      passed: false,
      startedAt: '',
      durationMs: 1,
    });
    expect(text).toMatch(/^tf-smoke FAILED: model\n/);
    expect(text).toMatch(/in {3}x: float32 \[\?, 4\]/);
    expect(text).toMatch(/FAIL finite {10}NaN/);
  });
});
