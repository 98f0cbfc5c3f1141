import os from 'node:os';
import path from 'node:path';
import {
  checkModelUrl,
  checkValidateInputs,
  DEFAULT_REPORT_PATH,
  validationKey,
} from './validateInputs';

const workspace = path.join(os.tmpdir(), 'tf-validate-inputs');
const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

describe('checkValidateInputs', () => {
  it('applies the config defaults, capped by maxRuns', () => {
    expect(
      checkValidateInputs(
        {},
        { device: 'cpu', runs: 500, maxRuns: 50, warmupRuns: 3 },
        workspace,
      ),
    ).toEqual({
      device: 'cpu',
      format: 'auto',
      runs: 50,
      warmupRuns: 3,
      seed: 42,
      latencyBudgetMs: undefined,
      reportPath: DEFAULT_REPORT_PATH,
      reportFile: path.join(workspace, DEFAULT_REPORT_PATH),
    });
  });

  it.each([
    [
      { modelPath: 'model', modelUrl: 'https://x/model.json' },
      /either modelPath .* or modelUrl/,
    ],
    [{ device: 'tpu' }, /device must be one of any, gpu, cpu/],
    [{ format: 'onnx' }, /format must be one of auto/],
    [{ runs: 201 }, /runs must be a whole number from 1 to 200/],
    [{ warmupRuns: 0 }, /warmupRuns must be a whole number from 1 to 100/],
    [{ seed: -1 }, /seed must be a whole number from 0/],
    [{ latencyBudgetMs: 0 }, /latencyBudgetMs must be a positive number/],
    [{ tolerance: -1 }, /tolerance must be a number ≥ 0/],
    [{ reportPath: 'report.txt' }, /reportPath "report.txt" must end in .json/],
    [{ reportPath: '../report.json' }, /reportPath/],
    [{ inputs: [] }, /inputs must be an object keyed by tensor name/],
  ])('refuses %j, naming the field', (input, message) => {
    expect(() => checkValidateInputs(input, {}, workspace)).toThrow(message);
  });
});

describe('checkModelUrl', () => {
  it('accepts http(s) and refuses other schemes without showing credentials', () => {
    expect(
      checkModelUrl('https://models.example.com/m/model.json', redact),
    ).toBe('https://models.example.com/m/model.json');
    const refused = () =>
      checkModelUrl('ftp://user:secret@example.com/model.json', redact);
    expect(refused).toThrow(/modelUrl must be an http\(s\) URL/);
    expect(refused).not.toThrow(/secret/);
  });
});

describe('validationKey', () => {
  const run = checkValidateInputs({}, {}, workspace);
  it('is stable for the same run and changes with what shapes the report', () => {
    expect(validationKey({}, 'model', run)).toBe(
      validationKey({}, 'model', run),
    );
    expect(validationKey({}, 'model', run)).not.toBe(
      validationKey({}, 'model', { ...run, seed: 7 }),
    );
    expect(validationKey({}, 'model', run)).not.toBe(
      validationKey({ tolerance: 0.1 }, 'model', run),
    );
  });
});
