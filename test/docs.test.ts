import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configKeyPaths } from '../tools/templates-check/configPaths';
import {
  collectModuleActions,
  renderActionsMarkdown,
} from '../tools/templates-check/actionsDoc';

const repoRoot = path.resolve(__dirname, '..');
const read = (p: string) => fs.readFileSync(path.join(repoRoot, p), 'utf8');

describe('docs', () => {
  it('configuration.md documents every key path declared in config.d.ts', () => {
    const keys = configKeyPaths(path.join(repoRoot, 'config.d.ts')).map(
      k => k.path,
    );
    // the extractor really reads the file: known keys at several depths are found
    expect(keys).toEqual(
      expect.arrayContaining([
        'tensorflow',
        'tensorflow.namespacePrefix',
        'tensorflow.repositories.localRoot',
      ]),
    );
    const doc = read('docs/configuration.md');
    const missing = keys.filter(
      k => k !== 'tensorflow' && !doc.includes(`\`${k}\``),
    );
    expect({ missingFromDocsConfiguration: missing }).toEqual({
      missingFromDocsConfiguration: [],
    });
  });

  it('docs/actions.md is up to date with the registered actions (else run `npm run docs:actions`)', async () => {
    const actions = await collectModuleActions();
    expect(actions.map(a => a.id)).toContain('tensorflow:model:create');
    const expected = renderActionsMarkdown(actions);
    const actual = read('docs/actions.md');
    if (actual !== expected) {
      throw new Error(
        'docs/actions.md is stale: run `npm run docs:actions` and commit the result',
      );
    }
  });

  it('mkdocs.yml is TechDocs-ready: every nav page exists and every docs page is in the nav', () => {
    const mkdocs = parseYaml(read('mkdocs.yml'));
    expect(mkdocs.plugins).toContain('techdocs-core');
    const nav: string[] = mkdocs.nav.map(
      (entry: Record<string, string>) => Object.values(entry)[0],
    );
    for (const page of [
      'index.md',
      'install.md',
      'configuration.md',
      'actions.md',
      'template-authoring.md',
      'troubleshooting.md',
      'security.md',
      'serving.md',
      'gateway.md',
    ]) {
      expect(nav).toContain(page);
    }
    const onDisk = fs
      .readdirSync(path.join(repoRoot, 'docs'))
      .filter(f => f.endsWith('.md'));
    expect({ missingPages: nav.filter(p => !onDisk.includes(p)) }).toEqual({
      missingPages: [],
    });
    expect({ notInNav: onDisk.filter(p => !nav.includes(p)) }).toEqual({
      notInNav: [],
    });
  });

  it('links between docs pages point at pages that exist', () => {
    const onDisk = new Set(fs.readdirSync(path.join(repoRoot, 'docs')));
    for (const page of [
      'index.md',
      'install.md',
      'configuration.md',
      'template-authoring.md',
      'troubleshooting.md',
    ]) {
      for (const m of read(`docs/${page}`).matchAll(
        /\]\(([\w-]+\.md)(#[\w-]+)?\)/g,
      )) {
        expect({ page, link: m[1], exists: onDisk.has(m[1]) }).toEqual({
          page,
          link: m[1],
          exists: true,
        });
      }
    }
  });
});
