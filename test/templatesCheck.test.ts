import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  sampleEntityRefs,
  stageSampleCatalogs,
  waitForEntities,
} from '../tools/templates-check/backend';
import {
  checkTemplates,
  defaultTemplates,
  formatReports,
} from '../tools/templates-check/run';
import { fetchActions } from '../tools/templates-check/dryrun';
import type { ActionInfo } from '../tools/templates-check/check';
import {
  repoRoot,
  startBackend,
  waitForCatalog,
  type RunningBackend,
} from './support/backend';

const fixture = (name: string) =>
  path.join(repoRoot, 'test/fixtures/templates', name, 'template.yaml');

describe('templates:check', () => {
  // One real backend (catalog + scaffolder with its built-ins + this module) for the whole file.
  // sample-catalog.yaml files hold entities a template's dry run needs (e.g. an existing model)
  const samples = fs
    .readdirSync(path.join(repoRoot, 'templates'))
    .map(name => path.join(repoRoot, 'templates', name, 'sample-catalog.yaml'))
    .filter(f => fs.existsSync(f));
  let backend: RunningBackend | undefined;
  let actions: Map<string, ActionInfo>;
  // declared first so it runs before the database hooks startBackend registers
  afterAll(async () => {
    await backend?.stop();
  });
  // started while the describe block is collected: startBackend registers jest hooks synchronously
  const reposDir = fs.mkdtempSync(
    path.join(os.tmpdir(), 'templates-check-repos-'),
  );
  const staged = stageSampleCatalogs(samples, reposDir);
  const starting = startBackend({
    tensorflow: { repositories: { localRoot: reposDir } },
    config: {
      catalog: {
        rules: [
          {
            allow: [
              'Component',
              'System',
              'API',
              'Resource',
              'Location',
              'Template',
              'Group',
              'User',
            ],
          },
        ],
        locations: [path.join(repoRoot, 'dev/catalog/all.yaml'), ...staged].map(
          target => ({ type: 'file', target }),
        ),
      },
    },
  });
  starting.catch(() => undefined);

  beforeAll(async () => {
    backend = await starting;
    actions = await fetchActions(backend.baseUrl);
    // the dry runs check owners and models against the catalog: wait for them
    await waitForCatalog(backend!.baseUrl);
    await waitForEntities(backend!.baseUrl, sampleEntityRefs(samples));
  });

  it('knows the built-in and our actions, with their schemas', () => {
    expect(actions.get('fetch:template')?.schema?.input).toBeDefined();
    expect(
      actions.get('tensorflow:model:create')?.schema?.output,
    ).toBeDefined();
  });

  it('passes on our templates, dry-running them with their sample values', async () => {
    const files = await defaultTemplates(repoRoot);
    expect(files.map(f => path.relative(repoRoot, f))).toContain(
      'templates/create-model/template.yaml',
    );
    const reports = await checkTemplates(files, {
      actions,
      baseUrl: backend!.baseUrl,
    });
    const text = formatReports(reports);
    expect({ issues: reports.flatMap(r => r.issues), text }).toEqual({
      issues: [],
      text: expect.any(String),
    });
    const createModel = reports.find(r =>
      r.file.endsWith('create-model/template.yaml'),
    )!;
    const created = createModel.dryRun!.files.map(f => f.path);
    expect(created).toEqual(
      expect.arrayContaining(['catalog-info.yaml', 'src/train.py']),
    );
    expect(text).toContain('dry run would create');
  });

  it('accepts ${{ }} expressions as inputs of any type and conditional parameters, and dry-runs', async () => {
    const [report] = await checkTemplates([fixture('expressions-ok')], {
      actions,
      baseUrl: backend!.baseUrl,
    });
    expect(report.issues).toEqual([]);
    expect(report.dryRun!.files.map(f => f.path)).toContain(
      'out/catalog-info.yaml',
    );
  });

  it('reports broken references with file:line and a fix', async () => {
    const [report] = await checkTemplates([fixture('broken-reference')], {
      actions,
    });
    const byMessage = (s: string) =>
      report.issues.find(i => i.message.includes(s));
    expect(byMessage('"parameters.nmae" is not declared')).toMatchObject({
      line: 20,
      fix: expect.stringContaining('name'),
    });
    expect(
      byMessage('step "publish" is referenced before it runs'),
    ).toMatchObject({
      line: 21,
      fix: expect.stringContaining('move step "publish"'),
    });
    expect(byMessage('has no output "repoUrl"')).toMatchObject({
      line: 34,
      fix: expect.stringContaining('files, targetPath'),
    });
    expect(report.issues).toHaveLength(3);
    expect(formatReports([report])).toContain(
      'test/fixtures/templates/broken-reference/template.yaml:20:',
    );
  });

  it('warns about free-text entity pickers, unguarded branch values and branch values on the review, and only about those', async () => {
    const [report] = await checkTemplates([fixture('wizard-antipatterns')], {
      actions,
      baseUrl: backend!.baseUrl,
    });
    const warnings = report.issues.map(i => ({
      severity: i.severity,
      line: i.line,
      message: i.message,
    }));
    expect(warnings).toEqual([
      {
        severity: 'warning',
        line: 17,
        message: expect.stringContaining(
          '"owner" uses OwnerPicker, which accepts free text',
        ),
      },
      {
        severity: 'warning',
        line: 30,
        message: expect.stringContaining(
          '"group" uses EntityPicker, which accepts free text',
        ),
      },
      {
        severity: 'warning',
        line: 60,
        message: expect.stringMatching(
          /"parameters.size" belongs to the branch sizing = "preset", but this expression does not check parameters.sizing/,
        ),
      },
      {
        severity: 'warning',
        line: 60,
        message: expect.stringMatching(
          /"parameters.replicas" belongs to the branch sizing = "custom"/,
        ),
      },
      {
        severity: 'warning',
        line: 44,
        message:
          'page "Size": the review page lists "size", "replicas" after the person switched to another branch, under a label made from the key',
      },
    ]);
    expect(report.issues[0].fix).toContain('allowArbitraryValues: false');
    expect(report.issues[2].fix).toContain(
      "${{ parameters.size if parameters.sizing == 'preset' else undefined }}",
    );
    expect(report.issues[4].fix).toContain(
      "patternProperties: { '^(size|replicas)$': { ui:backstage: { review: { show: false } } } }",
    );
    // warnings do not stop the dry run
    expect(report.dryRun).toBeDefined();
    expect(formatReports([report])).toContain(
      'wizard-antipatterns/template.yaml:17:21: warning:',
    );
  });

  it('reports an unknown action', async () => {
    const [report] = await checkTemplates([fixture('unknown-action')], {
      actions,
    });
    expect(report.issues).toEqual([
      expect.objectContaining({
        line: 16,
        message: expect.stringContaining(
          '"tensorflow:model:creat", which is not registered',
        ),
        fix: expect.stringContaining('tensorflow:model:create'),
      }),
    ]);
  });

  it('reports an input of the wrong type', async () => {
    const [report] = await checkTemplates([fixture('wrong-input-type')], {
      actions,
    });
    expect(report.issues).toEqual([
      expect.objectContaining({
        line: 19,
        message: expect.stringMatching(
          /input overwrite is not of a type\(s\) boolean/,
        ),
        fix: expect.stringContaining('type boolean'),
      }),
    ]);
  });

  it('reports schema and YAML errors at their line', async () => {
    const { checkTemplateSource } =
      await import('../tools/templates-check/check');
    const missingAction = await checkTemplateSource(
      'apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: x\nspec:\n  type: a\n  steps:\n    - id: a\n      input: {}\n',
      't.yaml',
      actions,
    );
    expect(missingAction.issues).toEqual([
      expect.objectContaining({
        line: 8,
        message: expect.stringContaining("required property 'action'"),
      }),
    ]);
    const flow = await checkTemplateSource(
      'spec:\n  steps:\n    - input: { name: ${{ parameters.name }} }\n',
      't.yaml',
      actions,
    );
    expect(flow.issues[0]).toMatchObject({
      line: 3,
      message: expect.stringContaining('YAML syntax'),
    });
  });
});
