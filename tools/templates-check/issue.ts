import type { Schema } from 'jsonschema';
import {
  isMap,
  isScalar,
  type Document,
  type LineCounter,
  type Node,
} from 'yaml';

/** An action as the scaffolder lists it (GET /api/scaffolder/v2/actions). */
export interface ActionInfo {
  id: string;
  description?: string;
  schema?: { input?: Schema; output?: Schema };
  examples?: { description: string; example: string }[];
}

export interface Issue {
  file: string;
  line: number;
  column: number;
  message: string;
  /** How to fix it. */
  fix: string;
  /** Errors fail the check; warnings (wizard anti-patterns the scaffolder accepts) are reported only. Default error. */
  severity?: 'error' | 'warning';
}

export function isError(issue: Issue): boolean {
  return issue.severity !== 'warning';
}

export function formatIssue(issue: Issue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.severity ?? 'error'}: ${issue.message}\n    fix: ${issue.fix}`;
}

export type Path = (string | number)[];

/** A parsed template: the document (for positions) and its plain value. */
export interface ParsedTemplate {
  file: string;
  doc: Document;
  value: any;
  lines: LineCounter;
}

/** Position of the node at `path`, or of its closest existing ancestor. */
export function positionOf(
  t: ParsedTemplate,
  path: Path,
): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = t.doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node && (node as any).range) {
      const pos = t.lines.linePos((node as any).range[0]);
      return { line: pos.line, column: pos.col };
    }
    // a key without a value: point at the key
    if (n > 0) {
      const parent = t.doc.getIn(path.slice(0, n - 1), true);
      if (isMap(parent)) {
        const pair = parent.items.find(
          p => isScalar(p.key) && p.key.value === path[n - 1],
        );
        if (pair && isScalar(pair.key) && pair.key.range) {
          const pos = t.lines.linePos(pair.key.range[0]);
          return { line: pos.line, column: pos.col };
        }
      }
    }
  }
  return { line: 1, column: 1 };
}
