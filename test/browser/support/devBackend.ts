import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, waitFor } from '../../support/backend';

/**
 * The dev backend exactly as `npm start` runs it (dev/index.ts with dev/app-config.yaml, serving the
 * built dev frontend), on a free loopback port with its data in a temporary folder.
 */
export interface DevBackend {
  baseUrl: string;
  dataDir: string;
  /** A guest (user:default/jdoe) token for API calls. */
  token(): Promise<string>;
  api<T = any>(
    route: string,
    init?: RequestInit & { json?: unknown },
  ): Promise<{ status: number; body: T }>;
  /** Everything the backend printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startDevBackend(): Promise<DevBackend> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-dev-ui-'));
  const baseUrl = `http://localhost:${port}`;
  const override = path.join(dataDir, 'app-config.test.json');
  fs.writeFileSync(
    override,
    JSON.stringify({
      app: { baseUrl },
      backend: {
        baseUrl,
        listen: { port, host: '127.0.0.1' },
        database: {
          client: 'better-sqlite3',
          connection: { directory: path.join(dataDir, 'sqlite') },
        },
      },
      tensorflow: {
        repositories: { localRoot: path.join(dataDir, 'repos') },
        gitops: {
          target: 'local',
          local: { path: path.join(dataDir, 'gitops') },
        },
      },
    }),
  );
  fs.mkdirSync(path.join(dataDir, 'sqlite'));
  let log = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      require.resolve('tsx/cli'),
      'dev/index.ts',
      '--no-app-build',
      '--config',
      'dev/app-config.yaml',
      '--config',
      override,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    },
  );
  child.stdout!.on('data', d => (log += d));
  child.stderr!.on('data', d => (log += d));
  let exited = false;
  child.once('exit', () => (exited = true));

  let cachedToken: string | undefined;
  const token = async () => {
    if (!cachedToken) {
      const r = await fetch(`${baseUrl}/api/auth/guest/refresh`);
      if (!r.ok) throw new Error(`guest sign-in failed: ${r.status}`);
      cachedToken = ((await r.json()) as any).backstageIdentity.token as string;
    }
    return cachedToken;
  };
  const api = async (
    route: string,
    init: RequestInit & { json?: unknown } = {},
  ) => {
    const { json, ...rest } = init;
    const response = await fetch(`${baseUrl}${route}`, {
      ...rest,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await token()}`,
        ...rest.headers,
      },
      body: json === undefined ? rest.body : JSON.stringify(json),
    });
    const text = await response.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // HTML or plain text
    }
    return { status: response.status, body };
  };

  const stop = async () => {
    if (!exited) {
      const gone = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      'the dev backend to serve the app and have the templates and organisation in its catalog',
      async () => {
        if (exited) throw new Error(`dev backend exited:\n${log.slice(-3000)}`);
        const page = await fetch(baseUrl)
          .then(r => r.text())
          .catch(() => '');
        if (!page.includes('<div id="root">')) return undefined;
        const refs = [
          'template/default/create-model',
          'template/default/provision-endpoint',
          'group/default/data-science',
          'user/default/jdoe',
        ];
        for (const ref of refs) {
          const r = await api(`/api/catalog/entities/by-name/${ref}`);
          if (r.status !== 200) throw new Error(`${ref}: ${r.status}`);
        }
        return true;
      },
      240000,
    );
  } catch (e) {
    await stop();
    throw new Error(
      `${(e as Error).message}\n--- backend output ---\n${log.slice(-3000)}`,
    );
  }
  return { baseUrl, dataDir, token, api, output: () => log, stop };
}
