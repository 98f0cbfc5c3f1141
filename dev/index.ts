import fs from 'node:fs';
import path from 'node:path';
import { createDevBackend } from './backend';

// Start from the repository root so relative paths in dev/app-config.yaml resolve there.
process.chdir(path.resolve(__dirname, '..'));
fs.mkdirSync('.data/sqlite', { recursive: true });
if (!process.argv.includes('--config')) {
  process.argv.push('--config', 'dev/app-config.yaml');
  if (fs.existsSync('app-config.local.yaml')) process.argv.push('--config', 'app-config.local.yaml');
}
process.env.NODE_ENV ??= 'development';

createDevBackend().start().catch(error => {
  console.error(error);
  process.exit(1);
});
