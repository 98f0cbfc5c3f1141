/** A benchmark run by `npm run bench [-- name ...]` (its own file: bench/index.ts imports every benchmark). */
export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<void>;
}
