import fs from 'node:fs/promises';
import path from 'node:path';
import {
  checkTemplateSource,
  formatIssue,
  isError,
  type ActionInfo,
  type Issue,
} from './check';
import { dryRunTemplate, SAMPLE_CATALOG, type DryRunResult } from './dryrun';

export interface TemplateReport {
  file: string;
  issues: Issue[];
  dryRun?: DryRunResult;
}

/** The default targets: every templates/<name>/template.yaml under `root`. */
export async function defaultTemplates(root: string): Promise<string[]> {
  const dir = path.join(root, 'templates');
  const entries = await fs
    .readdir(dir, { withFileTypes: true })
    .catch(() => []);
  const files: string[] = [];
  for (const e of entries) {
    const file = path.join(dir, e.name, 'template.yaml');
    if (e.isDirectory() && (await fs.stat(file).catch(() => undefined)))
      files.push(file);
  }
  return files.sort();
}

/** Expands arguments: a folder means its template.yaml, or else every <sub>/template.yaml in it. */
export async function resolveTargets(
  args: string[],
  root: string,
): Promise<string[]> {
  if (args.length === 0) return defaultTemplates(root);
  const out: string[] = [];
  for (const arg of args) {
    const abs = path.resolve(arg);
    const stat = await fs.stat(abs).catch(() => undefined);
    if (!stat) throw new Error(`${arg}: no such file or folder`);
    if (stat.isFile()) out.push(abs);
    else if (
      await fs.stat(path.join(abs, 'template.yaml')).catch(() => undefined)
    )
      out.push(path.join(abs, 'template.yaml'));
    else out.push(...(await subTemplates(abs)));
  }
  return out;
}

async function subTemplates(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const e of entries) {
    const file = path.join(dir, e.name, 'template.yaml');
    if (e.isDirectory() && (await fs.stat(file).catch(() => undefined)))
      files.push(file);
  }
  return files.sort();
}

/**
 * Checks templates: schema, actions and their inputs, references (static, against `actions`),
 * then, when `baseUrl` is given and the static checks passed, the scaffolder's dry run.
 */
export async function checkTemplates(
  files: string[],
  options: { actions: Map<string, ActionInfo>; baseUrl?: string },
): Promise<TemplateReport[]> {
  const reports: TemplateReport[] = [];
  for (const file of files) {
    const display = path.relative(process.cwd(), file) || file;
    const source = await fs.readFile(file, 'utf8');
    const { template, issues } = await checkTemplateSource(
      source,
      display,
      options.actions,
    );
    const report: TemplateReport = { file: display, issues };
    if (template && !issues.some(isError) && options.baseUrl) {
      report.dryRun = await dryRunTemplate(
        options.baseUrl,
        file,
        template.value,
      );
      report.issues.push(...report.dryRun.issues);
    }
    reports.push(report);
  }
  return reports;
}

export function formatReports(reports: TemplateReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const errors = r.issues.filter(isError);
    const warnings = r.issues.filter(i => !isError(i));
    if (errors.length === 0) {
      lines.push(
        `✔ ${r.file}${warnings.length ? `: ${warnings.length} warning(s)` : ''}`,
      );
      for (const issue of warnings) lines.push(`  ${formatIssue(issue)}`);
      if (r.dryRun) {
        lines.push(`  dry run would create ${r.dryRun.files.length} file(s):`);
        for (const f of r.dryRun.files)
          lines.push(
            `    ${f.path} (${f.size} bytes${f.executable ? ', executable' : ''})`,
          );
        for (const l of r.dryRun.log.filter(m => /^Skipping because/.test(m)))
          lines.push(`  note: ${l}`);
        if (r.dryRun.output !== undefined)
          lines.push(`  template output: ${JSON.stringify(r.dryRun.output)}`);
      }
    } else {
      lines.push(
        `✘ ${r.file}: ${errors.length} error(s)${warnings.length ? `, ${warnings.length} warning(s)` : ''}`,
      );
      for (const issue of r.issues) lines.push(`  ${formatIssue(issue)}`);
    }
  }
  return lines.join('\n');
}

/** The sample-catalog.yaml files next to the given templates (for the check's catalog). */
export async function sampleCatalogs(templates: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of templates) {
    const file = path.join(path.dirname(t), SAMPLE_CATALOG);
    if (await fs.stat(file).catch(() => undefined)) out.push(file);
  }
  return out;
}
