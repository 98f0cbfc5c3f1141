import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './support/backend';

/**
 * Our wizard pages read as words: every field has a label and a help text, enums show labels,
 * patterns explain themselves, lists of rows cannot be reordered, and permission tags sit where the
 * scaffolder reads them (pages and steps, never properties).
 */
const templates = fs
  .readdirSync(path.join(repoRoot, 'templates'))
  .map(name => path.join(repoRoot, 'templates', name, 'template.yaml'))
  .filter(f => fs.existsSync(f));

type Field = { name: string; schema: any; where: string };

function fields(node: any, where: string, out: Field[] = []): Field[] {
  if (!node || typeof node !== 'object') return out;
  for (const [name, schema] of Object.entries<any>(node.properties ?? {})) {
    // a branch's own copy of its selector only narrows it (`const`)
    if (schema && typeof schema === 'object' && !('const' in schema))
      out.push({ name, schema, where });
    if (schema?.type === 'object') fields(schema, `${where}.${name}`, out);
    if (schema?.type === 'array' && schema.items?.type === 'object')
      fields(schema.items, `${where}.${name}[]`, out);
  }
  for (const dep of Object.values<any>(node.dependencies ?? {})) {
    for (const branch of dep?.oneOf ?? dep?.anyOf ?? [])
      fields(branch, where, out);
  }
  return out;
}

describe.each(templates.map(f => [path.relative(repoRoot, f), f]))(
  '%s reads cleanly',
  (_name, file) => {
    const template = parse(fs.readFileSync(file, 'utf8'));
    const pages: any[] = template.spec.parameters;
    const all = pages.flatMap(p => fields(p, p.title));

    it('gives every field a label and a help text', () => {
      const missing = all
        .filter(f => !f.schema.title || !f.schema.description)
        .map(f => `${f.where}: ${f.name}`);
      expect(missing).toEqual([]);
    });

    it('labels every enum value', () => {
      const raw = all
        .flatMap(f => [
          f,
          ...(f.schema.items?.enum ? [{ ...f, schema: f.schema.items }] : []),
        ])
        .filter(
          f =>
            Array.isArray(f.schema.enum) &&
            f.schema.enumNames?.length !== f.schema.enum.length,
        )
        .map(f => `${f.where}: ${f.name}`);
      expect(raw).toEqual([]);
    });

    it('explains every pattern in a sentence', () => {
      const bare = all
        .filter(f => f.schema.pattern && !f.schema.errorMessage?.pattern)
        .map(f => f.name);
      expect(bare).toEqual([]);
    });

    it('lists of rows have no move buttons, and a row needs at least one scope', () => {
      for (const f of all.filter(
        x => x.schema.type === 'array' && x.schema.items?.type === 'object',
      )) {
        expect(f.schema['ui:options']?.orderable).toBe(false);
      }
      for (const f of all.filter(x => x.name === 'scopes'))
        expect(f.schema.minItems).toBe(1);
    });

    it('entity pickers take no free text', () => {
      const free = all
        .filter(
          f =>
            /EntityPicker|OwnerPicker/.test(f.schema['ui:field'] ?? '') &&
            f.schema['ui:options']?.allowArbitraryValues !== false,
        )
        .map(f => f.name);
      expect(free).toEqual([]);
    });

    it('puts permission tags on pages and steps only', () => {
      expect(
        all.filter(f => f.schema['backstage:permissions']).map(f => f.name),
      ).toEqual([]);
      const access = pages.find(p => p.title === 'Access');
      expect(access['backstage:permissions'].tags).toContain(
        'tensorflow-access-grants',
      );
    });
  },
);
