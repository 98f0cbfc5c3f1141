/**
 * Wizard anti-patterns the scaffolder accepts but a person filling in the form would not expect:
 *
 * - free-text entity pickers: EntityPicker and friends accept any typed text unless
 *   `ui:options.allowArbitraryValues: false`, so a typo becomes a reference to an entity that does not exist;
 * - unguarded branch values: the form keeps what was typed in a branch of a choice (`dependencies` oneOf,
 *   if/then/else) after the person switches to another branch, and sends it. A step input that reads such a
 *   value must check the choice (in the same expression or in the step's `if`), or the hidden value runs;
 * - branch values on the review page: the review lists such a value too, unless the page's `patternProperties`
 *   hide it (`ui:backstage.review.show: false`).
 */
import type { Issue, ParsedTemplate } from './issue';
import { positionOf } from './issue';

type Path = (string | number)[];

/** Field extensions that pick catalog entities and default to accepting free text. */
export const ENTITY_PICKERS = [
  'EntityPicker',
  'OwnerPicker',
  'MultiEntityPicker',
  'OwnedEntityPicker',
];

const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
const PARAMETER =
  /(?<![.\w$])parameters(?:\.([A-Za-z_$][\w$]*)|\[\s*['"]([^'"]+)['"]\s*\])/g;

function warning(
  t: ParsedTemplate,
  path: Path,
  message: string,
  fix: string,
): Issue {
  return {
    file: t.file,
    ...positionOf(t, path),
    message,
    fix,
    severity: 'warning',
  };
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Calls `visit` on every schema node under the parameter pages, with its path and property name. */
function walkSchemas(
  node: unknown,
  path: Path,
  visit: (schema: Record<string, any>, path: Path, name?: string) => void,
  name?: string,
) {
  if (Array.isArray(node)) {
    node.forEach((n, i) => walkSchemas(n, [...path, i], visit));
    return;
  }
  if (!isObject(node)) return;
  visit(node, path, name);
  if (isObject(node.properties)) {
    for (const [key, child] of Object.entries(node.properties))
      walkSchemas(child, [...path, 'properties', key], visit, key);
  }
  if (isObject(node.items))
    walkSchemas(node.items, [...path, 'items'], visit, name);
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    if (Array.isArray(node[key]))
      node[key].forEach((n: unknown, i: number) =>
        walkSchemas(n, [...path, key, i], visit),
      );
  }
  for (const key of ['then', 'else'])
    if (isObject(node[key])) walkSchemas(node[key], [...path, key], visit);
  if (isObject(node.dependencies)) {
    for (const [key, dep] of Object.entries(node.dependencies))
      walkSchemas(dep, [...path, 'dependencies', key], visit);
  }
}

export function checkFreeTextPickers(t: ParsedTemplate): Issue[] {
  const issues: Issue[] = [];
  walkSchemas(
    t.value?.spec?.parameters,
    ['spec', 'parameters'],
    (schema, path, name) => {
      const field = schema['ui:field'];
      if (!ENTITY_PICKERS.includes(field)) return;
      if (schema['ui:options']?.allowArbitraryValues === false) return;
      issues.push(
        warning(
          t,
          [...path, 'ui:field'],
          `"${name ?? '(item)'}" uses ${field}, which accepts free text: a typed value that is not in the catalog is sent as an entity reference`,
          'add ui:options: { allowArbitraryValues: false } so only catalog entities can be chosen',
        ),
      );
    },
  );
  return issues;
}

/** A property that exists only in one branch of a choice. */
export interface BranchValue {
  property: string;
  selector: string;
  /** The selector's value(s) for the branch, for the message. */
  when: string;
  /** A nunjucks test for the branch, for the fix. */
  test: string;
}

function literal(v: unknown): string {
  return typeof v === 'string'
    ? `'${v.replace(/'/g, "\\'")}'`
    : JSON.stringify(v);
}

function branchTest(selector: string, schema: unknown, negate = false): string {
  const ref = `parameters.${selector}`;
  if (isObject(schema) && 'const' in schema)
    return `${ref} ${negate ? '!=' : '=='} ${literal(schema.const)}`;
  if (isObject(schema) && Array.isArray(schema.enum))
    return `${negate ? 'not ' : ''}${ref} in [${schema.enum.map(literal).join(', ')}]`;
  return `${ref} == <value>`;
}

function selectorValue(schema: unknown): string | undefined {
  if (!isObject(schema)) return undefined;
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum))
    return schema.enum.map(v => JSON.stringify(v)).join(' or ');
  return undefined;
}

/** Properties that only some branch of a `dependencies` oneOf/anyOf or an if/then/else declares. */
export function branchValues(parameters: unknown): Map<string, BranchValue> {
  const always = new Set<string>();
  const branch = new Map<string, BranchValue>();
  const pages = Array.isArray(parameters) ? parameters : [parameters];
  const addBranch = (
    props: unknown,
    selector: string,
    when: string,
    test: string,
  ) => {
    if (!isObject(props)) return;
    for (const key of Object.keys(props)) {
      if (key !== selector && !branch.has(key))
        branch.set(key, { property: key, selector, when, test });
    }
  };
  const visitObject = (schema: unknown) => {
    if (!isObject(schema)) return;
    if (isObject(schema.properties))
      Object.keys(schema.properties).forEach(k => always.add(k));
    if (isObject(schema.dependencies)) {
      for (const [selector, dep] of Object.entries(schema.dependencies)) {
        if (!isObject(dep)) continue;
        for (const key of ['oneOf', 'anyOf']) {
          if (!Array.isArray(dep[key])) continue;
          for (const alt of dep[key]) {
            const when =
              selectorValue(alt?.properties?.[selector]) ?? 'a value';
            addBranch(
              alt?.properties,
              selector,
              `${selector} = ${when}`,
              branchTest(selector, alt?.properties?.[selector]),
            );
          }
        }
      }
    }
    const conditionals = [
      schema,
      ...(Array.isArray(schema.allOf) ? schema.allOf : []),
    ];
    for (const c of conditionals) {
      if (!isObject(c) || !isObject(c.if) || !isObject(c.if.properties))
        continue;
      const [selector] = Object.keys(c.if.properties);
      if (!selector) continue;
      const value = selectorValue(c.if.properties[selector]) ?? 'a value';
      addBranch(
        c.then?.properties,
        selector,
        `${selector} = ${value}`,
        branchTest(selector, c.if.properties[selector]),
      );
      addBranch(
        c.else?.properties,
        selector,
        `${selector} is not ${value}`,
        branchTest(selector, c.if.properties[selector], true),
      );
    }
  };
  pages.forEach(visitObject);
  for (const key of always) branch.delete(key);
  return branch;
}

function referencedParameters(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(PARAMETER)) out.add(m[1] ?? m[2]);
  return out;
}

function strings(
  value: unknown,
  path: Path,
  out: { path: Path; text: string }[] = [],
) {
  if (typeof value === 'string') out.push({ path, text: value });
  else if (Array.isArray(value))
    value.forEach((v, i) => strings(v, [...path, i], out));
  else if (isObject(value))
    for (const [k, v] of Object.entries(value)) strings(v, [...path, k], out);
  return out;
}

export function checkUnguardedBranchValues(t: ParsedTemplate): Issue[] {
  const spec = t.value?.spec ?? {};
  const branches = branchValues(spec.parameters);
  if (branches.size === 0) return [];
  const issues: Issue[] = [];
  const check = (value: unknown, path: Path, guardedBy: Set<string>) => {
    for (const { path: at, text } of strings(value, path)) {
      for (const expr of [...text.matchAll(EXPRESSION)].map(m => m[1])) {
        const refs = referencedParameters(expr);
        for (const name of refs) {
          const b = branches.get(name);
          if (!b || refs.has(b.selector) || guardedBy.has(b.selector)) continue;
          issues.push(
            warning(
              t,
              at,
              `"parameters.${name}" belongs to the branch ${b.when}, but this expression does not check parameters.${b.selector}: a value typed before the person switched branches is still sent`,
              `guard it, e.g. \${{ parameters.${name} if ${b.test} else undefined }}, or give the step if: \${{ ${b.test} }}`,
            ),
          );
        }
      }
    }
  };
  const steps: any[] = Array.isArray(spec.steps) ? spec.steps : [];
  steps.forEach((step, i) => {
    if (!isObject(step)) return;
    const guardedBy =
      typeof step.if === 'string'
        ? referencedParameters(step.if)
        : new Set<string>();
    check(step.input, ['spec', 'steps', i, 'input'], guardedBy);
    check(step.each, ['spec', 'steps', i, 'each'], guardedBy);
  });
  check(spec.output, ['spec', 'output'], new Set());
  return issues;
}

/** Whether a page's `patternProperties` hide `key` from the review page (docs/template-authoring.md). */
function hiddenFromReview(page: Record<string, any>, key: string): boolean {
  if (!isObject(page.patternProperties)) return false;
  return Object.entries(page.patternProperties).some(([pattern, schema]) => {
    try {
      return (
        new RegExp(pattern, 'u').test(key) &&
        schema?.['ui:backstage']?.review?.show === false
      );
    } catch {
      return false;
    }
  });
}

export function checkReviewedBranchValues(t: ParsedTemplate): Issue[] {
  const parameters = t.value?.spec?.parameters;
  const branches = branchValues(parameters);
  const pages: unknown[] = Array.isArray(parameters)
    ? parameters
    : [parameters];
  const issues: Issue[] = [];
  pages.forEach((page, i) => {
    if (!isObject(page)) return;
    const shown = [...branchValues(page).keys()].filter(
      key => branches.has(key) && !hiddenFromReview(page, key),
    );
    if (shown.length === 0) return;
    const names = shown.map(k => `"${k}"`).join(', ');
    issues.push(
      warning(
        t,
        [
          'spec',
          'parameters',
          ...(Array.isArray(parameters) ? [i] : []),
          'dependencies',
        ],
        `${typeof page.title === 'string' ? `page "${page.title}": ` : ''}the review page lists ${names} after the person switched to another branch, under a label made from the key`,
        `add patternProperties: { '^(${shown.join('|')})$': { ui:backstage: { review: { show: false } } } } to this page`,
      ),
    );
  });
  return issues;
}

/** The wizard checks. */
export function lintWizard(t: ParsedTemplate): Issue[] {
  return [
    ...checkFreeTextPickers(t),
    ...checkUnguardedBranchValues(t),
    ...checkReviewedBranchValues(t),
  ];
}
