/**
 * Template parameter defaults as the scaffolder form fills them in: the form (react-jsonschema-form)
 * computes JSON Schema `default`s for each parameter page, choosing the `dependencies` branch
 * (`oneOf`) that the current value — itself possibly a default — selects, and filling that
 * branch's defaults too. The CLI applies the same rules so a task started from the terminal gets
 * the parameters a person gets from the wizard (test/browser checks both against each other).
 *
 * Covered: `default` on properties (objects recursively), `dependencies` with `oneOf`/`anyOf`
 * branches selected by `const`/`enum` on the dependency key, and schema dependencies given
 * directly as a subschema. `$ref` is not used by our templates and is left alone.
 */
export type JsonSchema = {
  type?: string | string[];
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  dependencies?: Record<string, JsonSchema | string[]>;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  [key: string]: unknown;
};

export interface FilledDefault {
  /** Dotted path of the parameter, e.g. `size` or `resources.cpu`. */
  path: string;
  value: unknown;
}

type Values = Record<string, unknown>;

const isObject = (v: unknown): v is Values =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function matches(schema: JsonSchema | undefined, value: unknown): boolean {
  if (!schema) return true;
  if (
    'const' in schema &&
    JSON.stringify(schema.const) !== JSON.stringify(value)
  )
    return false;
  if (
    schema.enum &&
    !schema.enum.some(e => JSON.stringify(e) === JSON.stringify(value))
  )
    return false;
  return true;
}

/** The branch of a `dependencies` entry the current value selects (rjsf: the first oneOf branch whose key schema validates). */
function dependencyBranch(
  key: string,
  dependency: JsonSchema,
  values: Values,
): JsonSchema | undefined {
  const branches = dependency.oneOf ?? dependency.anyOf;
  if (!branches) return dependency;
  return branches.find(b => matches(b.properties?.[key], values[key]));
}

/** The object schema with the `dependencies` branches selected by `values` merged in, as rjsf resolves it. */
export function resolveDependencies(
  schema: JsonSchema,
  values: Values,
): JsonSchema {
  const properties = { ...schema.properties };
  for (const [key, dependency] of Object.entries(schema.dependencies ?? {})) {
    if (Array.isArray(dependency) || values[key] === undefined) continue;
    const branch = dependencyBranch(key, dependency, values);
    if (!branch) continue;
    const resolved = resolveDependencies(branch, values);
    for (const [name, prop] of Object.entries(resolved.properties ?? {})) {
      // the branch's own copy of the key (its `const`) narrows, it doesn't add a field
      properties[name] =
        name in properties ? { ...properties[name], ...prop } : prop;
    }
  }
  return { ...schema, properties };
}

function fillObject(
  schema: JsonSchema,
  values: Values,
  prefix: string,
  filled: FilledDefault[],
): Values {
  const result: Values = { ...values };
  const fill = (props: Record<string, JsonSchema>) => {
    for (const [name, prop] of Object.entries(props)) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (result[name] === undefined && prop.default !== undefined) {
        result[name] = structuredClone(prop.default);
        filled.push({ path, value: prop.default });
      }
      if (
        prop.properties &&
        (result[name] === undefined || isObject(result[name]))
      ) {
        const nested = fillObject(
          prop,
          isObject(result[name]) ? (result[name] as Values) : {},
          path,
          filled,
        );
        if (result[name] !== undefined || Object.keys(nested).length > 0)
          result[name] = nested;
      }
    }
  };
  fill(schema.properties ?? {});
  // A filled-in default may select a branch whose fields have defaults of their own
  // (sizing: preset -> size: small); repeat until nothing changes.
  for (let round = 0; round < 10; round++) {
    const before = filled.length;
    fill(resolveDependencies(schema, result).properties ?? {});
    if (filled.length === before) break;
  }
  return result;
}

/**
 * Fills the defaults of every parameter page, in page order, into a copy of `values` (what the
 * user gave is never replaced). Returns the values and the list of what was filled in.
 */
export function applyParameterDefaults(
  steps: JsonSchema[],
  values: Values,
): { values: Values; filled: FilledDefault[] } {
  const filled: FilledDefault[] = [];
  let result: Values = { ...values };
  for (const step of steps) result = fillObject(step, result, '', filled);
  return { values: result, filled };
}

/** Required parameters still missing after defaults, per page (top level and selected branches). */
export function missingRequired(steps: JsonSchema[], values: Values): string[] {
  const missing: string[] = [];
  for (const step of steps) {
    const resolved = resolveDependencies(step, values);
    const required = new Set([...(resolved.required ?? [])]);
    for (const [key, dependency] of Object.entries(step.dependencies ?? {})) {
      if (Array.isArray(dependency)) {
        if (values[key] !== undefined) dependency.forEach(r => required.add(r));
        continue;
      }
      if (values[key] === undefined) continue;
      dependencyBranch(key, dependency, values)?.required?.forEach(r =>
        required.add(r),
      );
    }
    for (const name of required)
      if (values[name] === undefined || values[name] === '') missing.push(name);
  }
  return [...new Set(missing)];
}
