import path from 'node:path';
import { cycles, importGraph, sourceFiles } from './imports';

/** The product's code: what `npm run build` compiles, without tests. */
const PRODUCT = ['actions', 'smoke', 'cli'];

describe('import structure', () => {
  const product = PRODUCT.flatMap(dir => sourceFiles(dir, true));

  it('finds the product sources', () => {
    expect(product.length).toBeGreaterThan(100);
  });

  it('has no folder-level import cycle (every folder is a node, at every depth)', () => {
    expect(cycles(importGraph(product, file => path.dirname(file)))).toEqual(
      [],
    );
  });

  it('has no file-level import cycle in the product, the bench or the tools', () => {
    const files = [
      ...product,
      ...sourceFiles('bench'),
      ...sourceFiles('tools'),
    ];
    expect(cycles(importGraph(files, file => file))).toEqual([]);
  });

  it('keeps the layers: the smoke engine and the CLI never import the actions, and nothing shipped imports test code', () => {
    const graph = importGraph(product, file => file);
    const offending: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const layerBreak =
          (from.startsWith('smoke/') || from.startsWith('cli/')) &&
          to.startsWith('actions/');
        if (
          layerBreak ||
          to.startsWith('test/') ||
          /\.test(\.fixtures)?\.ts$/.test(to)
        )
          offending.push(`${from} -> ${to}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('names files in camelCase and folders in kebab-case, as Backstage does', () => {
    const code = [
      'actions',
      'smoke',
      'cli',
      'bench',
      'tools',
      'test',
      'dev',
    ].flatMap(dir => sourceFiles(dir));
    const scripts = code.filter(
      f => !f.startsWith('dev/app/') && !f.startsWith('test/fixtures/'),
    );
    expect(scripts.length).toBeGreaterThan(200);
    const badFiles = scripts.filter(
      f =>
        !/^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*\.(ts|js|mjs)$/.test(
          path.basename(f),
        ),
    );
    const badFolders = [...new Set(scripts.map(f => path.dirname(f)))].filter(
      d => d.split('/').some(part => !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(part)),
    );
    expect({ badFiles, badFolders }).toEqual({ badFiles: [], badFolders: [] });
  });

  it('detects a cycle when there is one', () => {
    const edges = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    expect(cycles(edges)).toEqual([['a', 'b', 'c']]);
  });
});
