import fs from 'node:fs';

import path from 'node:path';
import { redactText, redactUrl } from './redact';
import {
  ModelRefusedError,
  resolveWeightPath,
  resolveWeightUrl,
  weightPathSegments,
} from './modelfs';
import { checkManifest, declaredInputs } from './preflight';
import { DEFAULT_LIMITS, SmokeLimitError, limitFlag } from './limits';

describe('redaction', () => {
  it('keeps scheme, host and path; drops userinfo, query and fragment', () => {
    expect(
      redactUrl('https://u:p@models.example.com/a/model.json?sig=abc#t=1'),
    ).toBe('https://models.example.com/a/model.json?…redacted');
    expect(redactUrl('https://models.example.com/a/model.json')).toBe(
      'https://models.example.com/a/model.json',
    );
    expect(redactUrl('not a url')).toBe('not a url');
    expect(
      redactText(
        "Reading from 'https://h/x/model.json?token=t' failed, see https://h/y?k=v.",
      ),
    ).toBe(
      "Reading from 'https://h/x/model.json?…redacted' failed, see https://h/y?…redacted.",
    );
  });
});

describe('weight paths', () => {
  it('are URL-decoded, then refused when they leave the folder', () => {
    expect(weightPathSegments('group1-shard1of2.bin')).toEqual([
      'group1-shard1of2.bin',
    ]);
    expect(weightPathSegments('sub/group%201.bin')).toEqual([
      'sub',
      'group 1.bin',
    ]);
    for (const bad of [
      '../x.bin',
      '%2e%2e/x.bin',
      '%2E%2E%2Fx.bin',
      'a/%2e/b',
      '/etc/passwd',
      '%2fetc%2fpasswd',
      'a\\..\\b',
      'https://evil/x',
      '//evil/x',
      '%252e%252e/x',
      'x.bin?y',
      'a//b',
      '',
      '%zz',
    ]) {
      expect(() => weightPathSegments(bad)).toThrow(ModelRefusedError);
    }
    expect(() => weightPathSegments(42)).toThrow(/is not a file name/);
  });

  it('resolve inside the model folder, as files and as URLs (query not carried over)', () => {
    expect(resolveWeightPath('/m', 'sub/w%20x.bin')).toBe(
      path.join('/m', 'sub', 'w x.bin'),
    );
    expect(
      resolveWeightUrl('https://h/a/b/model.json?token=t', 'sub/w%20x.bin'),
    ).toBe('https://h/a/b/sub/w%20x.bin');
    expect(() =>
      resolveWeightUrl('https://h/a/b/model.json', '%2e%2e/c/w.bin'),
    ).toThrow(/segment/);
  });
});

describe('preflight of model.json', () => {
  const manifest = (weights: unknown[], paths = ['w.bin']) => ({
    weightsManifest: [{ paths, weights }],
  });

  it('sums declared bytes per dtype and quantization, and enforces the shard and weight limits', () => {
    const m = checkManifest(
      manifest([
        { name: 'k', shape: [10, 10], dtype: 'float32' },
        {
          name: 'q',
          shape: [100],
          dtype: 'float32',
          quantization: { dtype: 'uint8' },
        },
      ]),
      DEFAULT_LIMITS,
    );
    expect(m).toMatchObject({
      shardCount: 1,
      declaredBytes: 500,
      groups: [{ declaredBytes: 500 }],
    });
    expect(() =>
      checkManifest(
        manifest([{ name: 'k', shape: [1e6, 1e3], dtype: 'float32' }]),
        DEFAULT_LIMITS,
      ),
    ).toThrow(
      /model\.json declares 3\.73 GiB of weights; the limit is 256\.0 MiB \(tensorflow\.smoke\.limits\.maxWeightBytes\)/,
    );
    const many = manifest(
      [],
      Array.from({ length: 200 }, (_, i) => `s${i}.bin`),
    );
    expect(() => checkManifest(many, DEFAULT_LIMITS)).toThrow(SmokeLimitError);
    expect(() => checkManifest(many, DEFAULT_LIMITS)).toThrow(
      /lists 200 weight shards; the limit is 128 \(tensorflow\.smoke\.limits\.maxShards\)/,
    );
    expect(() =>
      checkManifest(
        manifest([{ name: 'k', shape: [-1], dtype: 'float32' }]),
        DEFAULT_LIMITS,
      ),
    ).toThrow(/invalid dimension -1/);
  });

  it('reads input shapes from a graph signature, Placeholders, or a layers topology; explicit inputs count as given', () => {
    expect(
      declaredInputs({
        signature: {
          inputs: {
            x: {
              dtype: 'DT_INT32',
              tensorShape: { dim: [{ size: '-1' }, { size: '3' }] },
            },
          },
        },
      }),
    ).toEqual([{ name: 'x', dtype: 'int32', shape: [1, 3], bytes: 12 }]);
    expect(
      declaredInputs({
        modelTopology: {
          node: [
            {
              op: 'Placeholder',
              name: 'p',
              attr: {
                dtype: { type: 'DT_FLOAT' },
                shape: { shape: { dim: [{ size: '2' }, { size: '5' }] } },
              },
            },
          ],
        },
      }),
    ).toEqual([{ name: 'p', dtype: 'float32', shape: [2, 5], bytes: 40 }]);
    const layers = {
      modelTopology: {
        class_name: 'Sequential',
        config: {
          layers: [
            {
              class_name: 'Dense',
              config: { name: 'h', batch_input_shape: [null, 4] },
            },
          ],
        },
      },
    };
    expect(declaredInputs(layers)).toEqual([
      { name: 'h_input', dtype: 'float32', shape: [1, 4], bytes: 16 },
    ]);
    expect(
      declaredInputs(layers, {
        h_input: {
          values: [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
          ],
        },
      }),
    ).toEqual([{ name: 'h_input', dtype: 'float32', shape: [8], bytes: 32 }]);
  });
});

describe('limits', () => {
  it('have CLI flags and config keys named alike', () => {
    expect(limitFlag('memoryMb')).toBe('max-memory-mb');
    expect(limitFlag('wallMs')).toBe('max-wall-ms');
    expect(limitFlag('maxWeightBytes')).toBe('max-weight-bytes');
  });

  it('docs/smoke.md lists every limit with its config key and flag', () => {
    const doc = fs.readFileSync(
      path.resolve(__dirname, '../docs/smoke.md'),
      'utf8',
    );
    for (const key of Object.keys(DEFAULT_LIMITS) as Array<
      keyof typeof DEFAULT_LIMITS
    >) {
      expect(doc).toContain(`\`tensorflow.smoke.limits.${key}\``);
      expect(doc).toContain(`\`--${limitFlag(key)}\``);
    }
  });
});
