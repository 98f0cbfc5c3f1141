import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yaml from 'yaml';
import {
  renderPath,
  renderSkeleton,
  renderString,
  resolveSkeleton,
  writeRendered,
} from './skeleton';

async function tmp(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'skeleton-test-'));
}

async function makeSkeleton(
  files: Record<string, string | Buffer>,
): Promise<string> {
  const dir = await tmp();
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), content);
  }
  return dir;
}

describe('renderString', () => {
  it('renders values without HTML escaping', () => {
    expect(renderString('a: {{v}}', { v: '<b>&"' }, 'f')).toBe('a: <b>&"');
  });

  it('names the file and the missing value', () => {
    expect(() =>
      renderString('hello {{owner}}', {}, 'the file "README.md.hbs"'),
    ).toThrow(
      /the file "README\.md\.hbs" uses the value "owner", which was not given/,
    );
  });

  it('treats values as data: template syntax in a value comes out literally and never runs', () => {
    const payload = "{{constructor.constructor('return process')()}}";
    const out = renderString('x={{v}}', { v: payload }, 'f');
    expect(out).toBe(`x=${payload}`);
    // the rendered output is never rendered again
    expect(
      renderString('{{v}}', { v: '{{#each this}}{{@key}}{{/each}}' }, 'f'),
    ).toBe('{{#each this}}{{@key}}{{/each}}');
  });

  it('refuses prototype access from templates', () => {
    expect(renderString('[{{constructor}}]', { a: 1 }, 'f')).toBe('[]');
  });

  it('refuses unknown helpers', () => {
    expect(() => renderString('{{log "x"}}', {}, 'f')).toThrow(
      /could not be rendered/,
    );
  });

  it('json keeps structured files structured whatever the value holds', () => {
    const description = 'line one\nspec:\n  owner: group:default/attacker';
    const out = renderString(
      'description: {{json d}}\nowner: {{json o}}\n',
      { d: description, o: 'group:default/ml' },
      'f',
    );
    expect(yaml.parse(out)).toEqual({ description, owner: 'group:default/ml' });
  });
});

describe('renderPath', () => {
  it('renders each segment', () => {
    expect(renderPath('{{name}}/README.md', { name: 'fraud' })).toBe(
      'fraud/README.md',
    );
  });

  it.each(['../../etc', '..', '.', 'a/b', 'a\\b', ''])(
    'refuses a value "%s" that is not a plain name',
    bad => {
      expect(() => renderPath('{{name}}/README.md', { name: bad })).toThrow(
        /not a plain file or folder name/,
      );
    },
  );
});

describe('renderSkeleton and writeRendered', () => {
  it('renders .hbs files, drops the suffix and copies everything else byte for byte', async () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const dir = await makeSkeleton({
      '{{name}}/README.md.hbs': '# {{name}}\n',
      'raw/{{name}}.txt': 'not {{rendered}}',
      'model/weights.bin': binary,
    });
    const files = await renderSkeleton(dir, { name: 'fraud' });
    const byPath = Object.fromEntries(files.map(f => [f.path, f.content]));
    expect(Object.keys(byPath).sort()).toEqual([
      'fraud/README.md',
      'model/weights.bin',
      'raw/fraud.txt',
    ]);
    expect(byPath['fraud/README.md'].toString()).toBe('# fraud\n');
    expect(byPath['raw/fraud.txt'].toString()).toBe('not {{rendered}}');
    expect(byPath['model/weights.bin'].equals(binary)).toBe(true);

    const target = await tmp();
    await writeRendered(target, files, { overwrite: false });
    expect(
      (await fs.readFile(path.join(target, 'model/weights.bin'))).equals(
        binary,
      ),
    ).toBe(true);
  });

  it('refuses to overwrite different content and writes nothing', async () => {
    const dir = await makeSkeleton({ 'a.txt': 'new', 'b.txt': 'b' });
    const target = await tmp();
    await fs.writeFile(path.join(target, 'a.txt'), 'old');
    const files = await renderSkeleton(dir, {});
    await expect(
      writeRendered(target, files, { overwrite: false }),
    ).rejects.toThrow(
      /already exist and would be overwritten: a\.txt; choose another targetPath or set overwrite: true/,
    );
    await expect(fs.access(path.join(target, 'b.txt'))).rejects.toThrow();
    await writeRendered(target, files, { overwrite: true });
    expect(await fs.readFile(path.join(target, 'a.txt'), 'utf8')).toBe('new');
  });

  it('accepts identical existing files, so a retried step converges', async () => {
    const dir = await makeSkeleton({ 'a.txt': 'same' });
    const target = await tmp();
    const files = await renderSkeleton(dir, {});
    await writeRendered(target, files, { overwrite: false });
    const again = await writeRendered(target, files, { overwrite: false });
    expect(again).toEqual({ written: [], unchanged: ['a.txt'] });
  });

  it('refuses two files rendering to one path', async () => {
    const dir = await makeSkeleton({ '{{a}}.txt': '1', '{{b}}.txt': '2' });
    await expect(renderSkeleton(dir, { a: 'x', b: 'x' })).rejects.toThrow(
      /render to the same path "x\.txt"/,
    );
  });
});

describe('resolveSkeleton', () => {
  it('lists the available skeletons for an unknown name', async () => {
    const skeletonsDir = await makeSkeleton({
      'model-project/a.txt': 'a',
      'other/b.txt': 'b',
    });
    await expect(
      resolveSkeleton('nope', { skeletonsDir, workspacePath: await tmp() }),
    ).rejects.toThrow(
      'unknown skeleton "nope"; available skeletons: model-project, other',
    );
  });

  it('refuses a workspace path that escapes the workspace', async () => {
    await expect(
      resolveSkeleton('../../etc', {
        skeletonsDir: await tmp(),
        workspacePath: await tmp(),
      }),
    ).rejects.toThrow(/outside the workspace/);
  });
});
