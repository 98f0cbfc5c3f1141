import { execFile } from 'node:child_process';

export interface GitResult {
  stdout: string;
  stderr: string;
}

/** Runs the git CLI without a shell, with a clean, reproducible environment. */
export function git(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          GIT_TERMINAL_PROMPT: '0',
          GIT_CONFIG_NOSYSTEM: '1',
          ...options.env,
        },
      },
      (error, stdout, stderr) => {
        if (error) {
          const e = new Error(
            `git ${args[0]} failed: ${String(stderr || error.message).trim()}`,
          );
          reject(e);
        } else {
          resolve({ stdout: String(stdout), stderr: String(stderr) });
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

const queues = new Map<string, Promise<unknown>>();

/** Serialises work on one repository within this process. */
export async function withRepositoryLock<T>(
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(work);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}
