import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const repoRoot = path.resolve(__dirname, '../..');

/** Every .ts file under `dir` (relative to the repository), tests included unless `skipTests`. */
export function sourceFiles(dir: string, skipTests = false): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (
        e.name.endsWith('.ts') &&
        !e.name.endsWith('.d.ts') &&
        !(skipTests && /\.test(\.fixtures)?\.ts$/.test(e.name))
      ) {
        out.push(path.relative(repoRoot, p));
      }
    }
  };
  walk(path.join(repoRoot, dir));
  return out.sort();
}

/** Relative imports of one file, resolved to repository-relative .ts paths (type-only imports included). */
export function relativeImports(file: string): string[] {
  const abs = path.join(repoRoot, file);
  const info = ts.preProcessFile(fs.readFileSync(abs, 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = path.resolve(path.dirname(abs), fileName);
    const candidates = [`${target}.ts`, path.join(target, 'index.ts'), target];
    const hit = candidates.find(
      c => fs.existsSync(c) && fs.statSync(c).isFile(),
    );
    if (hit) out.push(path.relative(repoRoot, hit));
  }
  return out;
}

/** Strongly connected components with more than one node (Tarjan): each one is an import cycle. */
export function cycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return found;
}

/** The import graph of `files`, each node mapped through `node` (a file, or its folder). */
export function importGraph(
  files: string[],
  node: (file: string) => string,
): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    const from = node(file);
    if (!edges.has(from)) edges.set(from, new Set());
    for (const target of relativeImports(file)) {
      const to = node(target);
      if (to !== from) edges.get(from)!.add(to);
    }
  }
  return edges;
}
