/**
 * Import cost: how long loading the built module (dist/actions/index.js) takes in a Node process that
 * has already loaded the Backstage packages a scaffolder backend loads anyway. Each sample is a fresh
 * process; samples with and without the module alternate, so both see the same machine. Prints the
 * medians, the budget (50 ms) and whether any heavy library (manifest validators, Octokit, Handlebars,
 * TensorFlow) was loaded at import: those load on first use.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Benchmark } from './types';

const SAMPLES = Number(process.env.BENCH_IMPORT_SAMPLES ?? 15);
const BUDGET_MS = 50;
const repoRoot = path.resolve(__dirname, '..');
const distIndex = path.join(repoRoot, 'dist/actions/index.js');

/** What a Backstage backend with the scaffolder has loaded before it loads a scaffolder module. */
export const BACKSTAGE_PACKAGES = [
  '@backstage/backend-plugin-api',
  '@backstage/plugin-scaffolder-node',
  '@backstage/plugin-catalog-node',
  '@backstage/catalog-model',
  '@backstage/integration',
  '@backstage/config',
  '@backstage/errors',
  'zod',
  'yaml',
];
const HEAVY = [
  'kubernetes-models',
  '@kubernetes-models',
  '@octokit/plugin-retry',
  '@octokit/plugin-throttling',
  'handlebars',
  '@tensorflow',
];

interface Sample {
  backstageMs: number;
  moduleMs: number;
  files: number;
  heavy: string[];
}

const probe = `
const t = () => Number(process.hrtime.bigint()) / 1e6;
const [pkgs, heavy, target] = JSON.parse(process.argv[1]);
const t0 = t();
for (const p of pkgs) require(require.resolve(p, { paths: [process.cwd()] }));
const t1 = t();
const before = new Set(Object.keys(require.cache));
if (target) require(target);
const t2 = t();
const added = Object.keys(require.cache).filter(k => !before.has(k));
const loaded = heavy.filter(h => added.some(k => k.includes('/node_modules/' + h + '/') || k.includes('/node_modules/' + h)));
process.stdout.write(JSON.stringify({ backstageMs: t1 - t0, moduleMs: t2 - t1, files: added.length, heavy: loaded }));
`;

export function importSample(withModule: boolean): Sample {
  const arg = JSON.stringify([
    BACKSTAGE_PACKAGES,
    HEAVY,
    withModule ? distIndex : '',
  ]);
  return JSON.parse(
    execFileSync(process.execPath, ['-e', probe, arg], {
      cwd: repoRoot,
      encoding: 'utf8',
    }),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export const importBenchmark: Benchmark = {
  name: 'import',
  description:
    'time to load the built module on top of the Backstage packages (fresh processes, alternating, median)',
  async run() {
    if (!fs.existsSync(distIndex))
      throw new Error(
        'dist/actions/index.js is missing: run `npm run build` first',
      );
    const without: Sample[] = [];
    const withModule: Sample[] = [];
    importSample(true); // warm the file system cache
    for (let i = 0; i < SAMPLES; i++) {
      without.push(importSample(false));
      withModule.push(importSample(true));
    }
    const baseline = median(without.map(s => s.backstageMs));
    const backstage = median(withModule.map(s => s.backstageMs));
    const own = median(withModule.map(s => s.moduleMs));
    const spread = withModule.map(s => s.moduleMs).sort((a, b) => a - b);
    const heavy = [...new Set(withModule.flatMap(s => s.heavy))];
    process.stdout.write(
      `${SAMPLES} samples each, alternating fresh processes (node ${process.version})\n`,
    );
    process.stdout.write('| measure | median ms |\n| --- | --- |\n');
    process.stdout.write(
      `| Backstage packages alone (process without the module) | ${baseline.toFixed(1)} |\n`,
    );
    process.stdout.write(
      `| Backstage packages (process with the module) | ${backstage.toFixed(1)} |\n`,
    );
    process.stdout.write(
      `| the module on top (${withModule[0].files} files) | ${own.toFixed(1)} |\n\n`,
    );
    process.stdout.write(
      `module / Backstage packages: ${(own / backstage).toFixed(2)}; module min ${spread[0].toFixed(1)} ms, max ${spread[spread.length - 1].toFixed(1)} ms\n`,
    );
    process.stdout.write(
      `budget ${BUDGET_MS} ms: ${own <= BUDGET_MS ? 'within' : 'OVER'}\n`,
    );
    process.stdout.write(
      `heavy libraries loaded at import: ${heavy.length ? heavy.join(', ') : 'none'}\n`,
    );
  },
};
