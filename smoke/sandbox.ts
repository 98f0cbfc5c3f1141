/**
 * Isolated smoke runs: the model is loaded and run in a child process, never on the Backstage
 * backend's event loop. A watchdog kills the child on its wall time or resident memory (RSS, which
 * counts wasm memory and ArrayBuffers that V8's heap limit does not); cancelling kills it too.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DeviceUnavailableError } from './backend';
import type { ChildJob, ChildMessage, SerializedError } from './child';
import { SmokeAbortedError } from './engine';
import { ModelFormatError } from './formats';
import {
  formatBytes,
  SmokeLimitError,
  withDefaults,
  type SmokeLimitKey,
  type SmokeLimits,
} from './limits';
import { ModelRefusedError } from './modelfs';
import type { RunnerOptions } from './runner';
import { SmokeInputError } from './signature';
import type { SmokeReport } from './types';

const POLL_MS = 50;
const STDERR_TAIL = 4096;

/** `<dir>/<name>.js` when built (dist/), else `<name>.ts` run through tsx's require hook (sources, jest, `npm start`). */
export function childCommand(
  dir: string,
  name: string,
): { file: string; execArgv: string[] } {
  const js = path.join(dir, `${name}.js`);
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  return {
    file: path.join(dir, `${name}.ts`),
    execArgv: ['--require', require.resolve('tsx/cjs')],
  };
}

/** The child gets no secrets of the backend: only what Node and the OS need. */
function childEnv(): NodeJS.ProcessEnv {
  const keep = [
    'PATH',
    'HOME',
    'TMPDIR',
    'TMP',
    'TEMP',
    'LANG',
    'LC_ALL',
    'SystemRoot',
    'NODE_ENV',
  ];
  return Object.fromEntries(
    keep
      .filter(k => process.env[k] !== undefined)
      .map(k => [k, process.env[k]]),
  );
}

/** Resident memory of a process in bytes from /proc (Linux); undefined elsewhere. */
export function procRss(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(
      fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => live.forEach(c => c.kill('SIGKILL')));
  }
}

/** Runner processes still alive (tests check that none leak). */
export const liveRunners = () => [...live].map(c => c.pid);

function revive(e: SerializedError): Error {
  switch (e.name) {
    case 'SmokeInputError':
      return new SmokeInputError(e.message, e.field);
    case 'ModelFormatError':
      return new ModelFormatError(e.message);
    case 'ModelRefusedError':
      return new ModelRefusedError(e.message);
    case 'DeviceUnavailableError':
      return new DeviceUnavailableError(e.message);
    case 'SmokeLimitError':
      return new SmokeLimitError(e.limit as SmokeLimitKey, e.message);
    case 'AbortError':
      return new SmokeAbortedError();
    default: {
      const err = new Error(e.message);
      err.name = e.name;
      return err;
    }
  }
}

export interface IsolatedOptions<P> {
  /** Folder and base name of the child script (see childCommand). */
  dir: string;
  script: string;
  payload: P;
  limits?: Partial<SmokeLimits>;
  signal?: AbortSignal;
  /** Peak RSS of the child in bytes, when it ends. */
  onPeakRss?(bytes: number): void;
}

/** Runs one job in a fresh child process under the limits; resolves with its result. */
export function runIsolated<T, P = unknown>(
  options: IsolatedOptions<P>,
): Promise<T> {
  const limits = withDefaults(options.limits);
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(new SmokeAbortedError());
  const { file, execArgv } = childCommand(options.dir, options.script);
  return new Promise<T>((resolve, reject) => {
    const child = fork(file, [], {
      execArgv: [...execArgv, `--max-old-space-size=${limits.memoryMb}`],
      env: childEnv(),
      cwd: path.dirname(file),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    track(child);
    let stderr = '';
    child.stderr!.on(
      'data',
      (d: Buffer) =>
        (stderr = (stderr + d.toString('utf8')).slice(-STDERR_TAIL)),
    );
    let outcome:
      { ok: true; value: T } | { ok: false; error: Error } | undefined;
    let peak = 0;
    const memoryBytes = limits.memoryMb * 1024 * 1024;
    const started = Date.now();

    const stop = (error: Error) => {
      if (!outcome) outcome = { ok: false, error };
      child.kill('SIGKILL');
    };
    const breach = (key: SmokeLimitKey, what: string, value: number) =>
      stop(
        new SmokeLimitError(
          key,
          `${what}; the smoke runner was stopped`,
          value,
        ),
      );
    const seeRss = (rss: number) => {
      peak = Math.max(peak, rss);
      if (rss > memoryBytes)
        breach(
          'memoryMb',
          `the model used ${formatBytes(rss)} of memory`,
          limits.memoryMb,
        );
    };
    const poll = setInterval(() => {
      const rss = child.pid ? procRss(child.pid) : undefined;
      if (rss !== undefined) seeRss(rss);
    }, POLL_MS);
    const timer = setTimeout(
      () =>
        breach(
          'wallMs',
          `the smoke run took longer than ${limits.wallMs} ms`,
          limits.wallMs,
        ),
      limits.wallMs,
    );
    const onAbort = () => stop(new SmokeAbortedError());
    signal?.addEventListener('abort', onAbort, { once: true });

    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        const job: ChildJob<P> = {
          type: 'run',
          payload: options.payload,
          wallMs: limits.wallMs,
          memoryMb: limits.memoryMb,
          maxOutputBytes: limits.maxOutputBytes,
        };
        child.send(job);
      } else if (m.type === 'rss') {
        seeRss(m.rss);
      } else if (!outcome) {
        if (m.type === 'result') {
          const text = JSON.stringify(m.value) ?? 'null';
          const size = Buffer.byteLength(text);
          if (size > limits.maxOutputBytes)
            breach(
              'maxOutputBytes',
              `the smoke result is ${formatBytes(size)}`,
              limits.maxOutputBytes,
            );
          // Re-parsed with this realm's JSON: Node's IPC builds objects in its own realm, whose Array
          // prototype differs from a vm context's (jest), and the scaffolder's templating refuses those.
          else outcome = { ok: true, value: JSON.parse(text) as T };
        } else if (m.type === 'error') {
          outcome = { ok: false, error: revive(m.error) };
        }
      }
    });
    child.on('error', e => stop(e));
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      options.onPeakRss?.(peak);
      if (outcome?.ok) resolve(outcome.value);
      else if (outcome) reject(outcome.error);
      else if (/heap out of memory|Allocation failed/i.test(stderr)) {
        reject(
          new SmokeLimitError(
            'memoryMb',
            `the model ran out of memory`,
            limits.memoryMb,
          ),
        );
      } else {
        const tail = stderr.trim().split('\n').slice(-5).join('\n');
        reject(
          new Error(
            `the smoke runner ended without a result (${sig ? `signal ${sig}` : `exit code ${code}`}) after ${Date.now() - started} ms${tail ? `: ${tail}` : ''}`,
          ),
        );
      }
    });
  });
}

export type IsolatedSmokeOptions = RunnerOptions & {
  limits?: Partial<SmokeLimits>;
  signal?: AbortSignal;
};

/** runSmoke in a child process under the limits (preflight is the caller's, before reading further). */
export function runSmokeIsolated(
  options: IsolatedSmokeOptions,
): Promise<SmokeReport> {
  const { signal, ...rest } = options;
  // The runner has its own working directory: a relative model folder is the caller's.
  const payload: RunnerOptions = {
    ...rest,
    modelDir: path.resolve(rest.modelDir),
  };
  return runIsolated<SmokeReport, RunnerOptions>({
    dir: __dirname,
    script: 'runner',
    payload,
    limits: options.limits,
    signal,
  });
}
