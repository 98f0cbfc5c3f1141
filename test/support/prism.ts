/**
 * Jest helper: runs `prism mock` on GitHub's official OpenAPI description (the committed
 * subset test/contract/github-subset.json) for one test file, on a random loopback port,
 * and records every request made through `prism.fetch`.
 *
 *   const prism = usePrism();                       // at the top of a describe / file
 *   new Octokit({ baseUrl: prism.url, request: { fetch: prism.fetch } })
 *   expect(prism.calls()).toEqual(['GET /repos/o/r/git/ref/heads/main 200', ...]);
 *
 * Every request Prism finds invalid (sl-violations header on the request, a 422 from
 * validation, any Prism-generated application/problem+json error such as NO_PATH_MATCHED
 * or NOT_ACCEPTABLE) fails the running test in afterEach. Response-side violations are
 * ignored: GitHub's own examples do not always match GitHub's schemas.
 *
 * Octokit's default `accept: application/vnd.github.v3+json` gets 406 from Prism (the
 * description only declares application/json); `prism.fetch` sends application/json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { Octokit } from '@octokit/rest';
import { PROVISIONING_RECORD_FILE } from '../../actions/access/binding';
import path from 'node:path';

export const GITHUB_SUBSET = path.resolve(
  __dirname,
  '../contract/github-subset.json',
);
const PRISM_BIN = require.resolve('@stoplight/prism-cli/dist/index.js');

export interface PrismViolation {
  location?: string[];
  message: string;
  code?: string | number;
  severity?: string;
}

export interface RecordedRequest {
  method: string;
  /** Decoded path and query, e.g. `/repos/acme/gitops/git/ref/heads/model/x`. */
  path: string;
  status: number;
  body?: unknown;
  authorization?: string;
  prefer?: string;
  /** Request-side contract violations reported by Prism. */
  violations: PrismViolation[];
}

export interface PrismHandle {
  /** Base URL, e.g. http://127.0.0.1:40123 (set in beforeAll). */
  readonly url: string;
  /** Recording fetch to hand to Octokit (`request: { fetch: prism.fetch }`). */
  readonly fetch: typeof fetch;
  readonly requests: RecordedRequest[];
  /** `METHOD path status` per request, in order. */
  calls(): string[];
  /** Forget recorded requests (e.g. between two runs in one test); violations are still checked. */
  clear(): void;
  /** Returns the requests with violations not yet checked and marks them as expected (negative tests). */
  takeViolations(): RecordedRequest[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

type PrismProcess = { child: ChildProcess; port: number; log: () => string };

/** One attempt on a free port: the running mock, or the error saying why it did not start in time. */
async function startPrismOnce(
  spec: string,
  timeoutMs: number,
): Promise<PrismProcess | Error> {
  const port = await freePort();
  let output = '';
  const child = spawn(
    process.execPath,
    [PRISM_BIN, 'mock', '-h', '127.0.0.1', '-p', String(port), spec],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', d => (output = (output + d).slice(-20_000)));
  child.stderr!.on('data', d => (output = (output + d).slice(-20_000)));
  const started = Date.now();
  let exited = false;
  child.once('exit', () => (exited = true));
  const log = () => output;
  while (!exited && Date.now() - started < timeoutMs) {
    if (await canConnect(port)) return { child, port, log };
    await new Promise(r => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  return new Error(
    `prism mock did not start on port ${port}:\n${output.slice(-3000)}`,
  );
}

async function startPrism(
  spec: string,
  timeoutMs: number,
): Promise<PrismProcess> {
  if (!fs.existsSync(spec))
    throw new Error(`Prism description not found: ${spec}`);
  let result = await startPrismOnce(spec, timeoutMs);
  for (let attempt = 1; attempt < 3 && result instanceof Error; attempt++)
    result = await startPrismOnce(spec, timeoutMs);
  if (result instanceof Error) throw result;
  return result;
}

function parseViolations(header: string | null): PrismViolation[] {
  if (!header) return [];
  try {
    const parsed = JSON.parse(header);
    return Array.isArray(parsed) ? parsed : [{ message: header }];
  } catch {
    // Prism truncates the header at 8 KiB ("Too many violations! ..."): still a violation.
    return [{ message: header.slice(0, 500), location: ['request'] }];
  }
}

export function usePrism(
  options: { spec?: string; startTimeoutMs?: number } = {},
): PrismHandle {
  let child: ChildProcess | undefined;
  let port = 0;
  let prismLog = () => '';
  const requests: RecordedRequest[] = [];
  let unchecked: RecordedRequest[] = [];

  const recordingFetch: typeof fetch = async (input, init = {}) => {
    const request = new Request(input as string | URL | Request, init);
    const headers = new Headers(request.headers);
    headers.set('accept', 'application/json');
    const bodyText =
      init.body === undefined || init.body === null
        ? undefined
        : String(init.body);
    const res = await fetch(request.url, {
      method: request.method,
      headers,
      body: bodyText,
      signal: init.signal ?? undefined,
    });
    const url = new URL(request.url);
    const violations = parseViolations(res.headers.get('sl-violations')).filter(
      v => !(Array.isArray(v.location) && v.location[0] === 'response'),
    );
    const contentType = res.headers.get('content-type') ?? '';
    if (contentType.includes('application/problem+json')) {
      const problem = (await res
        .clone()
        .json()
        .catch(() => ({}))) as {
        validation?: PrismViolation[];
        title?: string;
        detail?: string;
        type?: string;
      };
      const validation: PrismViolation[] = Array.isArray(problem.validation)
        ? problem.validation
        : [];
      violations.push(
        ...(validation.length > 0
          ? validation
          : [
              {
                message: `${problem.title ?? 'Prism error'}: ${problem.detail ?? ''}`,
                code: problem.type,
              },
            ]),
      );
    } else if (res.status === 422 && violations.length === 0) {
      violations.push({
        message: 'HTTP 422 from Prism (request did not validate)',
      });
    }
    let body: unknown = bodyText;
    try {
      body = bodyText === undefined ? undefined : JSON.parse(bodyText);
    } catch {
      /* not JSON */
    }
    const recorded: RecordedRequest = {
      method: request.method,
      path: decodeURIComponent(url.pathname) + url.search,
      status: res.status,
      body,
      authorization: headers.get('authorization') ?? undefined,
      prefer: headers.get('prefer') ?? undefined,
      violations,
    };
    requests.push(recorded);
    unchecked.push(recorded);
    return res;
  };

  beforeAll(
    async () => {
      const started = await startPrism(
        options.spec ?? process.env.GITHUB_MOCK_SPEC ?? GITHUB_SUBSET,
        options.startTimeoutMs ?? 60_000,
      );
      child = started.child;
      port = started.port;
      prismLog = started.log;
    },
    (options.startTimeoutMs ?? 60_000) * 3 + 5_000,
  );

  afterEach(() => {
    const bad = unchecked.filter(r => r.violations.length > 0);
    unchecked = [];
    if (bad.length > 0) {
      throw new Error(
        `Requests violating GitHub's OpenAPI description:\n${bad
          .map(
            r =>
              `  ${r.method} ${r.path} -> ${r.status}: ${r.violations.map(v => `${(v.location ?? []).join('.')} ${v.message}`).join('; ')}`,
          )
          .join('\n')}\n--- prism log tail ---\n${prismLog().slice(-1500)}`,
      );
    }
  });

  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise(r => child!.once('exit', r));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      exited,
      new Promise(r => (timer = setTimeout(r, 5000))),
    ]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null)
      child.kill('SIGKILL');
  });

  return {
    get url() {
      if (!port)
        throw new Error(
          'prism is not started yet (use prism.url inside tests or beforeAll after usePrism)',
        );
      return `http://127.0.0.1:${port}`;
    },
    fetch: recordingFetch,
    requests,
    calls: () => requests.map(r => `${r.method} ${r.path} ${r.status}`),
    clear: () => {
      requests.length = 0;
    },
    takeViolations: () => {
      const bad = unchecked.filter(r => r.violations.length > 0);
      unchecked = unchecked.filter(r => r.violations.length === 0);
      return bad;
    },
  };
}

/**
 * Prism is stateless: it cannot hold the provisioning record that binds a repository to its
 * project. The request for it still goes to Prism (validated against GitHub's description, as
 * a file); only the content of the example answer is replaced by `record`.
 */
export function serveProvisioningRecord(
  octokit: Octokit,
  record: string,
): void {
  octokit.hook.wrap('request', async (request, options) => {
    if (!isProvisioningRecordRequest(options)) return request(options);
    // in place: inner hooks are bound to this options object
    options.headers = {
      ...options.headers,
      prefer: 'example=response-if-content-is-a-file',
    };
    const response = await request(options);
    (response.data as { content: string }).content =
      Buffer.from(record).toString('base64');
    return response;
  });
}

/** The request for a repository's provisioning record (steering hooks leave it to serveProvisioningRecord). */
export function isProvisioningRecordRequest(options: {
  method?: string;
  url?: string;
  path?: unknown;
}): boolean {
  return (
    `${options.method} ${options.url}` ===
      'GET /repos/{owner}/{repo}/contents/{path}' &&
    options.path === PROVISIONING_RECORD_FILE
  );
}
