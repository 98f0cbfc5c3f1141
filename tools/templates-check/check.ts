import { templateEntityV1beta3Validator } from '@backstage/plugin-scaffolder-common';
import {
  validate as validateJsonSchema,
  type ValidationError,
} from 'jsonschema';
import { LineCounter, parseDocument } from 'yaml';
import {
  positionOf,
  type ActionInfo,
  type Issue,
  type ParsedTemplate,
  type Path,
} from './issue';
import { lintWizard } from './lint';

export {
  formatIssue,
  isError,
  positionOf,
  type ActionInfo,
  type Issue,
  type ParsedTemplate,
} from './issue';

const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
const IDENT = '[A-Za-z_$][\\w$]*';
const QUOTED = `\\[\\s*['"]([^'"]+)['"]\\s*\\]`;
const PARAMETER_REF = new RegExp(
  `(?<![.\\w$])parameters(?:\\.(${IDENT})|${QUOTED})`,
  'g',
);
const STEP_REF = new RegExp(
  `(?<![.\\w$])steps(?:\\.(${IDENT})|${QUOTED})(?:\\s*\\.\\s*output(?:\\.(${IDENT})|${QUOTED})?)?`,
  'g',
);
export function parseTemplate(
  source: string,
  file: string,
): { template?: ParsedTemplate; issues: Issue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map(e => ({
        file,
        line: e.linePos?.[0].line ?? 1,
        column: e.linePos?.[0].col ?? 1,
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
        fix: 'quote values that start with "${{" inside flow mappings ({ a: "${{ x }}" }) or use block style; check indentation',
      })),
    };
  }
  return { template: { file, doc, value: doc.toJS(), lines }, issues: [] };
}

function issueAt(
  t: ParsedTemplate,
  path: Path,
  message: string,
  fix: string,
): Issue {
  return { file: t.file, ...positionOf(t, path), message, fix };
}

function pointerToPath(pointer: string): Path {
  return pointer
    .split('/')
    .slice(1)
    .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map(s => (/^\d+$/.test(s) ? Number(s) : s));
}

/** (a) The scaffolder's own Template schema (the validator the catalog and the dry-run endpoint use). */
export async function checkSchema(t: ParsedTemplate): Promise<Issue[]> {
  try {
    const ok = await templateEntityV1beta3Validator.check(t.value);
    if (!ok) {
      return [
        issueAt(
          t,
          ['apiVersion'],
          'not a scaffolder Template',
          'use apiVersion: scaffolder.backstage.io/v1beta3 and kind: Template',
        ),
      ];
    }
    return [];
  } catch (e) {
    const message = (e as Error).message;
    const pointer = /^(\/\S*)/.exec(message)?.[1] ?? '';
    return [
      issueAt(
        t,
        pointerToPath(pointer),
        `Template schema: ${message}`,
        'make the template match the scaffolder.backstage.io/v1beta3 Template schema (https://backstage.io/docs/features/software-templates/writing-templates)',
      ),
    ];
  }
}

/** Every property any page (or its conditional branches) declares. */
export function declaredParameters(parameters: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (schema: any) => {
    if (!schema || typeof schema !== 'object') return;
    if (Array.isArray(schema)) {
      schema.forEach(visit);
      return;
    }
    if (schema.properties && typeof schema.properties === 'object') {
      for (const key of Object.keys(schema.properties)) names.add(key);
    }
    for (const key of ['allOf', 'anyOf', 'oneOf'])
      if (Array.isArray(schema[key])) schema[key].forEach(visit);
    for (const key of ['if', 'then', 'else']) visit(schema[key]);
    if (schema.dependencies && typeof schema.dependencies === 'object') {
      Object.values(schema.dependencies).forEach(visit);
    }
  };
  visit(parameters);
  return names;
}

/** Every string under `value` with its path. */
function strings(
  value: unknown,
  path: Path,
  out: { path: Path; text: string }[] = [],
) {
  if (typeof value === 'string') out.push({ path, text: value });
  else if (Array.isArray(value))
    value.forEach((v, i) => strings(v, [...path, i], out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) strings(v, [...path, k], out);
  }
  return out;
}

function expressions(text: string): string[] {
  return [...text.matchAll(EXPRESSION)].map(m => m[1]);
}

function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('${{');
}

/** Output keys an action's output schema declares, or undefined if it declares none. */
function outputKeys(action: ActionInfo): Set<string> | undefined {
  const props = (action.schema?.output as any)?.properties;
  return props && typeof props === 'object'
    ? new Set(Object.keys(props))
    : undefined;
}

/** (b) actions exist and inputs fit their schemas; (c) parameter and step references resolve. */
export function checkStepsAndReferences(
  t: ParsedTemplate,
  actions: Map<string, ActionInfo>,
): Issue[] {
  const issues: Issue[] = [];
  const spec = t.value?.spec ?? {};
  const params = declaredParameters(spec.parameters);
  const steps: any[] = Array.isArray(spec.steps) ? spec.steps : [];
  const stepIndex = new Map<string, number>();
  steps.forEach((s, i) => {
    if (s && typeof s.id === 'string') stepIndex.set(s.id, i);
  });

  const checkRefs = (
    value: unknown,
    path: Path,
    position: number | 'output',
  ) => {
    for (const { path: at, text } of strings(value, path)) {
      for (const expr of expressions(text)) {
        for (const m of expr.matchAll(PARAMETER_REF)) {
          const name = m[1] ?? m[2];
          if (!params.has(name)) {
            issues.push(
              issueAt(
                t,
                at,
                `"parameters.${name}" is not declared by any parameter page`,
                `add "${name}" under the properties of a page in spec.parameters, or fix the name (declared: ${[...params].sort().join(', ') || 'none'})`,
              ),
            );
          }
        }
        for (const m of expr.matchAll(STEP_REF)) {
          const id = m[1] ?? m[2];
          const key = m[3] ?? m[4];
          const index = stepIndex.get(id);
          if (index === undefined) {
            issues.push(
              issueAt(
                t,
                at,
                `step "${id}" does not exist`,
                `use the id of an earlier step (ids: ${[...stepIndex.keys()].join(', ') || 'none'})`,
              ),
            );
            continue;
          }
          if (position !== 'output' && index >= position) {
            issues.push(
              issueAt(
                t,
                at,
                `step "${id}" is referenced before it runs (it is step ${index + 1}, the reference is in step ${position + 1})`,
                `move step "${id}" above this step, or drop the reference`,
              ),
            );
            continue;
          }
          if (key === undefined) continue;
          const action = actions.get(steps[index]?.action);
          if (!action) continue; // reported as an unknown action
          const keys = outputKeys(action);
          if (!keys || !keys.has(key)) {
            issues.push(
              issueAt(
                t,
                at,
                `step "${id}" (${action.id}) has no output "${key}"`,
                keys && keys.size > 0
                  ? `use one of the outputs ${action.id} declares: ${[...keys].join(', ')}`
                  : `${action.id} declares no outputs; take the value from elsewhere`,
              ),
            );
          }
        }
      }
    }
  };

  steps.forEach((step, i) => {
    const path: Path = ['spec', 'steps', i];
    const label =
      typeof step?.id === 'string' ? `step "${step.id}"` : `step ${i + 1}`;
    checkRefs({ if: step?.if, each: step?.each, input: step?.input }, path, i);
    const actionId = step?.action;
    if (typeof actionId !== 'string') return; // schema check reports it
    const action = actions.get(actionId);
    if (!action) {
      const near = [...actions.keys()].filter(
        id => id.split(':')[0] === actionId.split(':')[0],
      );
      issues.push(
        issueAt(
          t,
          [...path, 'action'],
          `${label} uses the action "${actionId}", which is not registered`,
          near.length > 0
            ? `use a registered action, e.g. ${near.slice(0, 8).join(', ')}`
            : 'install the module that provides it, or use a registered action (see /create/actions in Backstage)',
        ),
      );
      return;
    }
    const inputSchema = action.schema?.input;
    if (!inputSchema) return;
    const input = step.input ?? {};
    const result = validateJsonSchema(input, inputSchema);
    for (const error of result.errors) {
      const errorPath = error.path as Path;
      // values that are ${{ }} expressions are only known at run time: accept them as any type
      if (isExpression(valueAt(input, errorPath))) continue;
      const property = errorPath.length > 0 ? errorPath.join('.') : '(input)';
      const expected = describeSchema(error.schema as any);
      issues.push(
        issueAt(
          t,
          [
            ...path,
            'input',
            ...errorPath,
            ...(error.name === 'additionalProperties'
              ? [String(error.argument)]
              : []),
          ],
          `${label} (${actionId}): input ${property} ${error.message}`,
          inputFix(error, inputSchema, property, expected),
        ),
      );
    }
  });
  checkRefs(spec.output, ['spec', 'output'], 'output');
  return issues;
}

/** How to fix a step input its action's schema refuses. */
function inputFix(
  error: ValidationError,
  inputSchema: unknown,
  property: string,
  expected: string,
): string {
  if (error.name === 'additionalProperties') {
    return `remove "${error.argument}" or rename it to one of: ${Object.keys((inputSchema as any).properties ?? {}).join(', ')}`;
  }
  if (error.name === 'required') return `add input "${error.argument}"`;
  return `give ${property} ${expected}`;
}

function valueAt(value: unknown, path: Path): unknown {
  let v: any = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[key];
  }
  return v;
}

function describeSchema(schema: any): string {
  if (!schema || typeof schema !== 'object')
    return 'a value the action accepts';
  if (Array.isArray(schema.enum))
    return `one of ${schema.enum.map((v: unknown) => JSON.stringify(v)).join(', ')}`;
  const parts: string[] = [];
  if (schema.type)
    parts.push(`a value of type ${[schema.type].flat().join(' or ')}`);
  if (schema.format) parts.push(`in the "${schema.format}" format`);
  if (schema.pattern) parts.push(`matching ${schema.pattern}`);
  if (schema.description) parts.push(`(${schema.description})`);
  return parts.join(' ') || 'a value the action accepts';
}

/** All static checks on one template source. */
export async function checkTemplateSource(
  source: string,
  file: string,
  actions: Map<string, ActionInfo>,
) {
  const { template, issues } = parseTemplate(source, file);
  if (!template) return { template, issues };
  const schemaIssues = await checkSchema(template);
  issues.push(...schemaIssues);
  if (template.value?.spec && typeof template.value.spec === 'object') {
    issues.push(...checkStepsAndReferences(template, actions));
    issues.push(...lintWizard(template));
  }
  return { template, issues };
}
