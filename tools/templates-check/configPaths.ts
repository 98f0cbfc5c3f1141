import fs from 'node:fs';
import ts from 'typescript';

export interface ConfigKey {
  /** Dotted path, e.g. `tensorflow.serving.limits.maxReplicas`; `<name>` for map keys, `[]` for array items. */
  path: string;
  type: string;
  description: string;
}

function jsDoc(node: ts.Node, source: ts.SourceFile): string {
  const docs = (node as any).jsDoc as ts.JSDoc[] | undefined;
  if (!docs?.length) return '';
  const comment = docs[docs.length - 1].comment;
  const text =
    typeof comment === 'string'
      ? comment
      : (comment ?? []).map(c => c.getText(source)).join('');
  return text.replace(/\s+/g, ' ').trim();
}

/** Every key path declared under `Config` in a config.d.ts, read with the TypeScript compiler API. */
export function configKeyPaths(file: string): ConfigKey[] {
  const source = ts.createSourceFile(
    file,
    fs.readFileSync(file, 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
  );
  const keys: ConfigKey[] = [];
  function visitType(type: ts.TypeNode | undefined, prefix: string): void {
    if (!type) return;
    if (ts.isTypeLiteralNode(type)) {
      visitMembers(type.members, prefix);
    } else if (ts.isArrayTypeNode(type)) {
      visitType(type.elementType, `${prefix}[]`);
    } else if (
      ts.isTypeReferenceNode(type) &&
      type.typeName.getText(source) === 'Array' &&
      type.typeArguments?.length === 1
    ) {
      visitType(type.typeArguments[0], `${prefix}[]`);
    } else if (ts.isParenthesizedTypeNode(type)) {
      visitType(type.type, prefix);
    }
  }
  function visitMembers(
    members: ts.NodeArray<ts.TypeElement>,
    prefix: string,
  ): void {
    for (const m of members) {
      if (ts.isPropertySignature(m)) {
        const name = m.name.getText(source).replace(/^['"]|['"]$/g, '');
        const path = prefix ? `${prefix}.${name}` : name;
        keys.push({
          path,
          type: m.type
            ? m.type.getText(source).replace(/\s+/g, ' ')
            : 'unknown',
          description: jsDoc(m, source),
        });
        visitType(m.type, path);
      } else if (ts.isIndexSignatureDeclaration(m)) {
        const path = `${prefix}.<${m.parameters[0].name.getText(source)}>`;
        keys.push({
          path,
          type: m.type.getText(source).replace(/\s+/g, ' '),
          description: jsDoc(m, source),
        });
        visitType(m.type, path);
      }
    }
  }
  source.forEachChild(node => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'Config')
      visitMembers(node.members, '');
  });
  return keys;
}
