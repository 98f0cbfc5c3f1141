/**
 * A throwaway PostgreSQL server for tests and benchmarks: Debian's `postgresql` package
 * (installed by .ci/run), a fresh cluster in a temp folder, loopback only, a random free
 * port, trust auth for the `postgres` role, stopped (fast shutdown) and deleted on stop().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  /** knex `connection` for `backend.database`. */
  connection: { host: string; port: number; user: string; password: string };
  stop(): Promise<void>;
}

/** Folder with `initdb` and `postgres`: $PG_BIN, else the newest /usr/lib/postgresql/<v>/bin, else PATH. */
export function findPostgresBin(): string {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter(v => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map(v => path.join(debian, v, 'bin')));
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], {
    encoding: 'utf8',
  });
  if (which.status === 0 && which.stdout.trim())
    candidates.push(path.dirname(fs.realpathSync(which.stdout.trim())));
  const bin = candidates.find(
    dir =>
      fs.existsSync(path.join(dir, 'initdb')) &&
      fs.existsSync(path.join(dir, 'postgres')),
  );
  if (!bin) {
    throw new Error(
      "PostgreSQL server binaries not found: install Debian's package (`apt-get install -y postgresql`, as .ci/run does) or set PG_BIN to the folder holding initdb and postgres",
    );
  }
  return bin;
}

export function freePort(): Promise<number> {
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

/** PostgreSQL refuses to run as root: when we are root, run it as the `postgres` system user. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) =>
    spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      "running as root and there is no `postgres` system user to run PostgreSQL as (Debian's package creates it)",
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(true);
  return new Promise(resolve => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function startPostgres(
  options: { log?: (line: string) => void } = {},
): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const owner = runAs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-pg-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  if (owner.uid !== undefined) {
    fs.chmodSync(dir, 0o755);
    fs.chownSync(dir, owner.uid, owner.gid!);
    fs.chownSync(dataDir, owner.uid, owner.gid!);
  }
  const init = spawnSync(
    path.join(bin, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ],
    { ...owner, cwd: dir, encoding: 'utf8' },
  );
  if (init.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `initdb failed (${init.status}): ${init.stderr || init.stdout}`,
    );
  }

  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      path.join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dir}`,
        // a test database: durability traded for speed, enough connections for two backends
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ],
      { ...owner, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', d => {
      stderr = (stderr + d).slice(-4000);
      options.log?.(String(d));
    });
    const deadline = Date.now() + 30_000;
    while (
      Date.now() < deadline &&
      child.exitCode === null &&
      !(await canConnect(port))
    ) {
      await new Promise(r => setTimeout(r, 100));
    }
    // accepting TCP is not yet accepting queries; the log line says so
    while (
      Date.now() < deadline &&
      child.exitCode === null &&
      !/ready to accept connections/.test(stderr)
    ) {
      await new Promise(r => setTimeout(r, 50));
    }
    if (child.exitCode === null && /ready to accept connections/.test(stderr)) {
      const connection = {
        host: '127.0.0.1',
        port,
        user: 'postgres',
        password: 'postgres',
      };
      return {
        host: '127.0.0.1',
        port,
        user: 'postgres',
        connection,
        async stop() {
          if (child.exitCode === null) {
            child.kill('SIGINT'); // fast shutdown
            if (!(await waitForExit(child, 15_000))) {
              child.kill('SIGKILL');
              await waitForExit(child, 5_000);
            }
          }
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = stderr;
    child.kill('SIGKILL');
    await waitForExit(child, 5_000);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start: ${lastError}`);
}
