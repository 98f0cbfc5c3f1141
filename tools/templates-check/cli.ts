/**
 * npm run templates:check [--no-dry-run] [--config app-config.yaml] [--module <package>]... [path ...]
 *
 * Checks scaffolder templates (default: every templates/<name>/template.yaml): the Template
 * schema, that every action exists and its input fits the action's schema, that every
 * ${{ parameters.x }} / steps.<id>.output.<key> reference resolves, and a dry run with
 * <template folder>/sample-values.yaml. Exits 1 on any error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startCheckBackend } from './backend';
import { fetchActions } from './dryrun';
import { checkTemplates, formatReports, resolveTargets, sampleCatalogs } from './run';

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const dryRun = !args.includes('--no-dry-run');
  let tensorflow = {};
  const configAt = args.indexOf('--config');
  if (configAt >= 0) {
    const file = args[configAt + 1];
    if (!file) throw new Error('--config needs a YAML file holding a tensorflow: section');
    tensorflow = parseYaml(fs.readFileSync(file, 'utf8'))?.tensorflow ?? {};
    args.splice(configAt, 2);
  }
  // extra backend modules whose actions the templates use, e.g. @backstage/plugin-scaffolder-backend-module-github
  const modules: string[] = [];
  for (let at = args.indexOf('--module'); at >= 0; at = args.indexOf('--module')) {
    if (!args[at + 1]) throw new Error('--module needs a package name');
    modules.push(args[at + 1]);
    args.splice(at, 2);
  }
  const targets = await resolveTargets(args.filter(a => a !== '--no-dry-run'), path.resolve(__dirname, '../..'));
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
    const reports = await checkTemplates(targets, { actions, baseUrl: dryRun ? backend.baseUrl : undefined });
    console.log(formatReports(reports));
    const errors = reports.reduce((n, r) => n + r.issues.length, 0);
    console.log(errors === 0 ? `\n${reports.length} template(s) OK` : `\n${errors} error(s) in ${reports.filter(r => r.issues.length).length} template(s)`);
    return errors === 0 ? 0 : 1;
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
