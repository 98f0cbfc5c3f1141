/**
 * Does a heavy validation hurt everyone else on the backend? The catalog API's latency (p50/p99/max)
 * on a real Backstage backend (test/support/backend.ts: catalog, scaffolder, this module), measured
 * from a separate process at a fixed request rate, while a heavy model (a conv net taking hundreds of
 * ms per inference on wasm) is validated: with no validation, with the engine called in the backend's
 * process (as before), and isolated in the child runner (as now). Modes interleaved, rounds pooled.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Benchmark } from './types';
import { runSmoke } from '../smoke/engine';
import { childCommand, runSmokeIsolated } from '../smoke/sandbox';
import { startBackend, waitForCatalog } from '../test/support/backend';
import {
  heavyConvModel,
  saveLayers,
  denseClassifier,
} from '../test/support/smokeModels';

const ROUNDS = 2;
const INTERVAL_MS = 50;
const IDLE_MS = 4000;
const HEAVY = { size: 128, filters: 32, layers: 6 };
const RUNS = 20;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[
    Math.min(
      sorted.length - 1,
      Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
    )
  ];
}

/** Probes `url` from another process while `during` runs; returns the latencies. */
async function probe(
  url: string,
  during: () => Promise<unknown>,
): Promise<{ latencies: number[]; failures: number; ms: number }> {
  const { file, execArgv } = childCommand(__dirname, 'catalogProbe');
  const child = fork(file, [], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<any>(resolve => child.once('message', resolve));
  child.send({ url, intervalMs: INTERVAL_MS });
  await next();
  const t0 = Date.now();
  await during();
  const ms = Date.now() - t0;
  const done = next();
  child.send({ stop: true });
  const { latencies, failures } = await done;
  return { latencies, failures, ms };
}

async function run(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'isolation-bench-'));
  const heavy = await saveLayers(
    heavyConvModel(HEAVY),
    path.join(root, 'heavy'),
  );
  const small = await saveLayers(denseClassifier(), path.join(root, 'small'));
  const backend = await startBackend();
  try {
    await waitForCatalog(backend.baseUrl);
    const url = `${backend.baseUrl}/api/catalog/entities/by-name/group/default/ml-platform`;
    // TensorFlow loaded in this process beforehand, so the in-process figures do not count its start-up.
    await runSmoke({ modelDir: small, runs: 2 });
    const modes: Record<string, () => Promise<unknown>> = {
      'no validation': () => new Promise(r => setTimeout(r, IDLE_MS)),
      'in-process (engine on the backend event loop)': () =>
        runSmoke({ modelDir: heavy, runs: RUNS, warmupRuns: 2 }),
      'isolated (child runner)': () =>
        runSmokeIsolated({ modelDir: heavy, runs: RUNS, warmupRuns: 2 }),
    };
    const pooled: Record<
      string,
      { latencies: number[]; failures: number; ms: number[] }
    > = {};
    for (let r = 0; r < ROUNDS; r++) {
      const order = Object.keys(modes);
      if (r % 2 === 1) order.reverse();
      for (const mode of order) {
        const res = await probe(url, modes[mode]);
        const p = (pooled[mode] ??= { latencies: [], failures: 0, ms: [] });
        p.latencies.push(...res.latencies);
        p.failures += res.failures;
        p.ms.push(res.ms);
      }
    }
    const rows = Object.entries(pooled).map(([mode, p]) => {
      const s = [...p.latencies].sort((a, b) => a - b);
      return [
        mode,
        String(s.length),
        String(p.failures),
        percentile(s, 50).toFixed(1),
        percentile(s, 99).toFixed(1),
        s[s.length - 1].toFixed(1),
        p.ms.map(x => (x / 1000).toFixed(1)).join(', '),
      ];
    });
    const header = [
      'validation',
      'requests',
      'failed',
      'catalog p50 ms',
      'catalog p99 ms',
      'max ms',
      'validation wall s (per round)',
    ];
    process.stdout.write(
      `${[header, header.map(() => '---'), ...rows].map(row => `| ${row.join(' | ')} |`).join('\n')}\n`,
    );
    process.stdout.write(
      `\nGET /api/catalog/entities/by-name/group/default/ml-platform every ${INTERVAL_MS} ms (open loop, from a separate process) on a real backend in this process; ` +
        `heavy model: conv ${HEAVY.size}×${HEAVY.size}×3, ${HEAVY.layers}×conv${HEAVY.filters}, ${RUNS} timed + 2 warm-up runs on wasm; ${ROUNDS} rounds, modes interleaved; ` +
        `Node ${process.version}, ${os.cpus().length} CPU(s), load average ${os.loadavg()[0].toFixed(1)}\n`,
    );
  } finally {
    await backend.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export const isolationBenchmark: Benchmark = {
  name: 'isolation',
  description:
    'catalog API p99 latency on a real backend while a heavy model is validated: in the backend process vs in the isolated runner',
  run,
};
