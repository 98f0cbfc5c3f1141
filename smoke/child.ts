/**
 * The child side of an isolated smoke run (see sandbox.ts): receives one job over IPC, runs it,
 * sends one result (capped in size) and exits. A watchdog thread kills the process when the parent
 * is gone or the wall time is over, even while the main thread is stuck inside a wasm kernel.
 */
import { Worker } from 'node:worker_threads';
import { SmokeLimitError, formatBytes } from './limits';

export interface ChildJob<P = unknown> {
  type: 'run';
  payload: P;
  wallMs: number;
  memoryMb: number;
  maxOutputBytes: number;
}

export type ChildMessage =
  | { type: 'result'; value: unknown }
  | { type: 'error'; error: SerializedError }
  | { type: 'rss'; rss: number }
  | { type: 'ready' };

export interface SerializedError {
  name: string;
  message: string;
  field?: string;
  limit?: string;
}

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { ppid, deadline, maxRss } = workerData;
setInterval(() => {
  if (process.ppid !== ppid || Date.now() > deadline || process.memoryUsage.rss() > maxRss) process.kill(process.pid, 'SIGKILL');
}, 250);
`;

/** TensorFlow.js's "install our node backend" notice is not ours to print. */
function silenceTfjsBanner() {
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (
      args.some(
        a =>
          typeof a === 'string' &&
          /install our node\s+backend|tfjs-node for more details/i.test(a),
      )
    )
      return;
    warn(...args);
  };
}

function serialize(e: unknown): SerializedError {
  const err = e as Error & { field?: string; limit?: string };
  return {
    name: err?.name ?? 'Error',
    message: String(err?.message ?? e),
    field: err?.field,
    limit: err?.limit,
  };
}

/** Serves one job with `handler`, then exits. Call from the runner script's top level. */
export function serve<P>(handler: (payload: P) => Promise<unknown>): void {
  if (!process.send)
    throw new Error(
      'the smoke runner must be started by sandbox.ts (no IPC channel)',
    );
  silenceTfjsBanner();
  const send = (m: ChildMessage) =>
    new Promise<void>(resolve => {
      if (!process.connected) {
        resolve();
        return;
      }
      process.send!(m, undefined, {}, () => resolve());
    });
  process.on('disconnect', () => process.exit(0));
  process.once('message', async (job: ChildJob<P>) => {
    // Grace beyond the parent's own limits: the parent normally kills first and names the limit.
    const watchdog = new Worker(WATCHDOG, {
      eval: true,
      workerData: {
        ppid: process.ppid,
        deadline: Date.now() + job.wallMs + 2000,
        maxRss: job.memoryMb * 1.25 * 1024 * 1024,
      },
    });
    watchdog.unref();
    // Where /proc is missing the parent watches the RSS reported here.
    const rss = setInterval(
      () => void send({ type: 'rss', rss: process.memoryUsage.rss() }),
      200,
    );
    rss.unref();
    let message: ChildMessage;
    try {
      const value = await handler(job.payload);
      const size = Buffer.byteLength(JSON.stringify(value) ?? '');
      message =
        size > job.maxOutputBytes
          ? {
              type: 'error',
              error: serialize(
                new SmokeLimitError(
                  'maxOutputBytes',
                  `the smoke result is ${formatBytes(size)}`,
                  job.maxOutputBytes,
                ),
              ),
            }
          : { type: 'result', value };
    } catch (e) {
      message = { type: 'error', error: serialize(e) };
    }
    clearInterval(rss);
    await send(message);
    process.exit(0);
  });
  void send({ type: 'ready' });
}
