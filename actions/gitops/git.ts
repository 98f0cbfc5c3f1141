import { execFile } from 'node:child_process';

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  cwd: string;
  /** Extra environment; inherited GIT_* variables are dropped so hooks or shells cannot redirect us. */
  env?: Record<string, string>;
  /** Written to stdin. */
  input?: string | Buffer;
  /** Exit codes that are not errors (e.g. 1 for `rev-parse --verify -q`). */
  okCodes?: number[];
}

export interface GitResult {
  stdout: string;
  code: number;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_')) env[key] = value;
  }
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
    ...extra,
  };
}

/** The process exit code: 0 on success, the numeric code of a failed run, null when git did not run or was killed. */
function exitCode(error: Error | null): number | null {
  if (!error) return 0;
  const code = (error as any).code;
  return typeof code === 'number' ? code : null;
}

/** Runs the git CLI with execFile (never a shell). */
export function git(args: string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        env: cleanEnv(options.env),
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = exitCode(error);
        if (code !== null && (code === 0 || options.okCodes?.includes(code))) {
          resolve({ stdout, code });
          return;
        }
        reject(
          new GitError(
            `git ${args[0]} failed (${code ?? (error as Error).message}): ${String(stderr).trim().slice(0, 500)}`,
            args,
            code,
            String(stderr),
          ),
        );
      },
    );
    // A command that does not read stdin may exit before we write: ignore EPIPE, the exit code decides.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? undefined);
  });
}

/** True for failures caused by another writer holding one of git's lock files. */
export function isLockContention(error: unknown): boolean {
  if (!(error instanceof GitError)) return false;
  return /index\.lock|\.lock': File exists|cannot lock ref|Unable to create .*\.lock|but expected/i.test(
    error.stderr,
  );
}
