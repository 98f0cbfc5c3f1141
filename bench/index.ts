/**
 * Benchmark entry (`npm run bench [-- name ...]`). Each benchmark registers here; with no names, all run.
 * Speed claims live here, never in timed tests.
 */
import { importBenchmark } from './import';
import { isolationBenchmark } from './isolation';
import { createModelLoadBenchmark } from './load';
import { replicasBench } from './replicas';
import { smokeBenchmark } from './smoke';
import type { Benchmark } from './types';

export type { Benchmark } from './types';

const benchmarks: Benchmark[] = [
  smokeBenchmark,
  isolationBenchmark,
  importBenchmark,
  createModelLoadBenchmark,
  replicasBench,
];

async function main(argv: string[]) {
  const unknown = argv.filter(a => !benchmarks.some(b => b.name === a));
  if (unknown.length) {
    process.stderr.write(
      `unknown benchmark(s): ${unknown.join(', ')}; available: ${benchmarks.map(b => b.name).join(', ')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  for (const b of benchmarks.filter(
    x => argv.length === 0 || argv.includes(x.name),
  )) {
    process.stdout.write(`\n## ${b.name}: ${b.description}\n\n`);
    await b.run();
  }
}

main(process.argv.slice(2)).catch(e => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
});
