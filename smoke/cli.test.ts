import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSmokeModels } from '../test/support/smokeModels';
import {
  startTfServingServer,
  type TfServingServer,
} from '../test/support/tfServingServer';
import type { SmokeReport } from './types';

const repo = path.resolve(__dirname, '..');
const cli = path.join(__dirname, 'cli.ts');

/** Runs tf-smoke through tsx (require hook) in a child process (asynchronously, so an in-process server can answer). */
function tfSmoke(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-r', 'tsx/cjs', cli, ...args], {
      cwd: repo,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', d => (stdout += d));
    p.stderr.on('data', d => (stderr += d));
    p.on('error', reject);
    p.on('close', code => resolve({ code, stdout, stderr }));
  });
}

let root: string;
let m: Awaited<ReturnType<typeof buildSmokeModels>>;
let server: TfServingServer;
beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-cli-'));
  m = await buildSmokeModels(root);
  server = await startTfServingServer({ modelName: 'conv', modelDir: m.conv });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('tf-smoke CLI', () => {
  it('prints a human-readable report and exits 0; --json parses; a failing check exits 1', async () => {
    const [human, json, nan] = await Promise.all([
      tfSmoke([m.multi, '--runs', '3']),
      tfSmoke([m.graph, '--runs', '3', '--device', 'cpu', '--json']),
      tfSmoke([m.nan, '--runs', '2', '--json']),
    ]);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^tf-smoke PASSED: /);
    expect(human.stdout).toMatch(/in {3}token_ids: int32 \[\?, 3\]/);
    expect(human.stdout).toMatch(/PASS no-leak/);
    expect(human.stdout).toMatch(/3 runs: p50 [\d.]+ ms, p95 [\d.]+ ms/);

    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as SmokeReport;
    expect(report).toMatchObject({
      passed: true,
      model: { format: 'graph-model' },
      device: { kind: 'cpu' },
      timings: { runs: 3 },
    });

    expect(nan.code).toBe(1);
    const failed = JSON.parse(nan.stdout) as SmokeReport;
    expect(failed.checks.find(c => c.id === 'finite')).toMatchObject({
      passed: false,
    });
  });

  it('endpoint mode and usage errors', async () => {
    const [ep, usage] = await Promise.all([
      tfSmoke([
        '--endpoint',
        server.url,
        '--model',
        'conv',
        '--runs',
        '2',
        '--json',
      ]),
      tfSmoke(['--runs', 'many', m.dense]),
    ]);
    expect(ep.code).toBe(0);
    expect(JSON.parse(ep.stdout)).toMatchObject({
      mode: 'endpoint',
      passed: true,
      outputs: [{ shape: [1, 10] }],
    });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--runs must be a number/);
  });

  it('runs the model isolated under the same limits as the action, with flags; no third-party banner', async () => {
    const [cpu, input, wall, bad] = await Promise.all([
      tfSmoke([
        path.relative(repo, m.dense),
        '--runs',
        '2',
        '--backend',
        'cpu',
      ]), // relative to the caller's folder
      tfSmoke([m.conv, '--max-input-bytes', '512']),
      tfSmoke([m.conv, '--runs', '2', '--max-wall-ms', '1']),
      tfSmoke([m.dense, '--max-memory-mb', '0']),
    ]);
    expect(cpu.code).toBe(0);
    expect(cpu.stderr).toBe('');
    expect(cpu.stdout).not.toMatch(/node backend|tfjs-node|=====/);
    expect(input.code).toBe(2);
    expect(input.stderr.trim()).toMatch(
      /^tf-smoke: the model's inputs need 1\.00 KiB per inference \(input 'conv_input' float32 \[1, 16, 16, 1\] alone 1\.00 KiB\); the limit is 512 bytes \(tensorflow\.smoke\.limits\.maxInputBytes\)$/,
    );
    expect(wall.code).toBe(2);
    expect(wall.stderr).toMatch(
      /the smoke run took longer than 1 ms; the smoke runner was stopped; the limit is 1 ms \(tensorflow\.smoke\.limits\.wallMs\)/,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--max-memory-mb is '0'; give a whole number from 1 to 65536/,
    );
  });

  it('importing the engine loads no TensorFlow', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(
        process.execPath,
        [
          '-r',
          'tsx/cjs',
          '-e',
          "require('./smoke'); process.stdout.write(String(Object.keys(require.cache).filter((k) => k.includes('@tensorflow')).length))",
        ],
        { cwd: repo },
      );
      let s = '';
      p.stdout.on('data', d => (s += d));
      p.on('error', reject);
      p.on('close', () => resolve(s));
    });
    expect(out).toBe('0');
  });
});
