import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildStarterModel, starterModelDir } from './starter';
import { runSmoke } from '../../smoke/engine';

describe('starter model of the skeleton', () => {
  it('the committed files equal what starter.ts builds', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'starter-'));
    await buildStarterModel(out);
    for (const f of ['model.json', 'weights.bin']) {
      expect(
        fs
          .readFileSync(path.join(out, f))
          .equals(fs.readFileSync(path.join(starterModelDir(), f))),
      ).toBe(true);
    }
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('loads and passes the smoke checks', async () => {
    const r = await runSmoke({
      modelDir: starterModelDir(),
      runs: 3,
      warmupRuns: 1,
    });
    expect(r.passed).toBe(true);
    expect(r.signature).toMatchObject({
      inputs: [{ name: 'features', shape: [-1, 4] }],
      outputs: [{ name: 'probs', shape: [-1, 3] }],
    });
  });
});
