/**
 * npm run templates:check [--no-dry-run] [--strict] [--config app-config.yaml] [--module <package>]... [path ...]
 *
 * Checks scaffolder templates (default: every templates/<name>/template.yaml): the Template
 * schema, that every action exists and its input fits the action's schema, that every
 * ${{ parameters.x }} / steps.<id>.output.<key> reference resolves, and a dry run with
 * <template folder>/sample-values.yaml. It also warns about wizard anti-patterns (free-text entity
 * pickers, step inputs that read a value of a branch the person may have left). Exits 1 on any
 * error, and with --strict also on any warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startCheckBackend } from './backend';
import { fetchActions } from './dryrun';
import {
  checkTemplates,
  formatReports,
  resolveTargets,
  sampleCatalogs,
} from './run';
import { isError } from './check';

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const dryRun = !args.includes('--no-dry-run');
  const strict = args.includes('--strict');
  let tensorflow = {};
  const configAt = args.indexOf('--config');
  if (configAt >= 0) {
    const file = args[configAt + 1];
    if (!file)
      throw new Error(
        '--config needs a YAML file holding a tensorflow: section',
      );
    tensorflow = parseYaml(fs.readFileSync(file, 'utf8'))?.tensorflow ?? {};
    args.splice(configAt, 2);
  }
  // extra backend modules whose actions the templates use, e.g. @backstage/plugin-scaffolder-backend-module-github
  const modules: string[] = [];
  for (
    let at = args.indexOf('--module');
    at >= 0;
    at = args.indexOf('--module')
  ) {
    if (!args[at + 1]) throw new Error('--module needs a package name');
    modules.push(args[at + 1]);
    args.splice(at, 2);
  }
  const targets = await resolveTargets(
    args.filter(a => a !== '--no-dry-run' && a !== '--strict'),
    path.resolve(__dirname, '../..'),
  );
  if (targets.length === 0) {
    console.error('no template.yaml found');
    return 1;
  }
  const backend = await startCheckBackend(
    tensorflow,
    await sampleCatalogs(targets),
    modules.map(m => import(m)),
  );
  try {
    const actions = await fetchActions(backend.baseUrl);
    const reports = await checkTemplates(targets, {
      actions,
      baseUrl: dryRun ? backend.baseUrl : undefined,
    });
    console.log(formatReports(reports));
    const errors = reports.reduce(
      (n, r) => n + r.issues.filter(isError).length,
      0,
    );
    const warnings = reports.reduce(
      (n, r) => n + r.issues.filter(i => !isError(i)).length,
      0,
    );
    const warned = warnings ? `, ${warnings} warning(s)` : '';
    console.log(
      errors === 0
        ? `\n${reports.length} template(s) OK${warned}`
        : `\n${errors} error(s)${warned} in ${reports.filter(r => r.issues.some(isError)).length} template(s)`,
    );
    return errors === 0 && !(strict && warnings > 0) ? 0 : 1;
  } finally {
    await backend.stop();
  }
}

main(process.argv.slice(2)).then(
  code => process.exit(code),
  error => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
