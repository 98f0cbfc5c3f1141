import fs from 'node:fs';
import path from 'node:path';
import { ensureAppBuilt } from './appBuild';
import { createDevBackend } from './backend';

// Start from the repository root so relative paths in dev/app-config.yaml resolve there.
process.chdir(path.resolve(__dirname, '..'));
const skipAppBuild = process.argv.includes('--no-app-build');
process.argv = process.argv.filter(a => a !== '--no-app-build');
fs.mkdirSync('.data/sqlite', { recursive: true });
if (!process.argv.includes('--config')) {
  process.argv.push('--config', 'dev/app-config.yaml');
  if (fs.existsSync('app-config.local.yaml'))
    process.argv.push('--config', 'app-config.local.yaml');
}
process.env.NODE_ENV ??= 'development';

// The backend serves the dev frontend (dev/app) on its own port; build it first when missing or stale.
if (!skipAppBuild) ensureAppBuilt();

createDevBackend()
  .start()
  .catch(error => {
    console.error(error);
    process.exit(1);
  });
