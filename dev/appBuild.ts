import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The dev frontend (dev/app) is served from its build by @backstage/plugin-app-backend, which
 * serves nothing, silently, when the build is missing. So the dev backend builds it first when
 * the build is missing or was made from other sources than the ones on disk.
 */
export const appDir = path.resolve(__dirname, 'app');
const distDir = path.join(appDir, 'dist');
const stampFile = path.join(distDir, '.source-hash');

/** Everything the build reads that can change: the app's sources and public files, its package, the config (title), the lock file. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(path.join(appDir, 'src'));
  walk(path.join(appDir, 'public'));
  files.push(
    path.join(appDir, 'package.json'),
    path.resolve(appDir, '../app-config.yaml'),
    path.resolve(appDir, '../../package-lock.json'),
  );
  return files.filter(f => fs.existsSync(f)).sort();
}

export function appSourceHash(): string {
  const hash = crypto.createHash('sha256');
  for (const file of sourceFiles()) {
    hash
      .update(path.relative(appDir, file))
      .update('\0')
      .update(fs.readFileSync(file))
      .update('\0');
  }
  return hash.digest('hex');
}

/** Why the app needs a build, or undefined when its build matches its sources. */
export function appBuildStale(): string | undefined {
  if (
    !fs.existsSync(path.join(distDir, 'static')) ||
    !fs.existsSync(path.join(distDir, 'index.html'))
  ) {
    return 'no build in dev/app/dist';
  }
  const built = fs.existsSync(stampFile)
    ? fs.readFileSync(stampFile, 'utf8').trim()
    : '';
  return built === appSourceHash()
    ? undefined
    : 'dev/app sources changed since the last build';
}

/** Builds dev/app when missing or stale, saying so; returns whether it built. */
export function ensureAppBuilt(
  log: (line: string) => void = line => console.log(line),
): boolean {
  const reason = appBuildStale();
  if (!reason) {
    log('Dev frontend build in dev/app/dist is up to date.');
    return false;
  }
  log(`Building the dev frontend (${reason}); this takes about a minute...`);
  const started = Date.now();
  const hash = appSourceHash();
  const cli = require.resolve('@backstage/cli/bin/backstage-cli', {
    paths: [appDir],
  });
  const result = spawnSync(
    process.execPath,
    [cli, 'package', 'build', '--config', '../app-config.yaml'],
    { cwd: appDir, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    throw new Error(
      `building dev/app failed (exit ${result.status ?? result.signal}); run "npm run build --workspace dev/app" to see why`,
    );
  }
  fs.writeFileSync(stampFile, `${hash}\n`);
  log(
    `Built the dev frontend in ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  );
  return true;
}

if (require.main === module) {
  try {
    ensureAppBuilt();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
