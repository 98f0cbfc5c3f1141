import Ajv from 'ajv';
import kubernetesFields from '../fixtures/schemas/kubernetes-fields.json';
import istioCrds from '../fixtures/schemas/istio-crds.json';
import kserveCrds from '../fixtures/schemas/kserve-crds.json';

/**
 * Strict-mode schema validation (unknown fields rejected, as `kubectl apply --validate=strict` and
 * kubeconform -strict do) for every manifest we generate:
 *  - Kubernetes kinds: the field maps of Kubernetes' OpenAPI (release-1.36, from @kubernetes/client-node's
 *    generated models; test/fixtures/schemas/kubernetes-fields.json) with primitive type checks;
 *  - Istio and KServe: the CRDs' openAPIV3Schema (istio/istio crd-all.gen.yaml, kserve/kserve
 *    serving.kserve.io_inferenceservices.yaml) with `additionalProperties: false` added wherever a
 *    schema lists properties and does not preserve unknown fields, metadata checked as ObjectMeta.
 * Returns the list of problems (empty = valid).
 */
type Obj = Record<string, any>;
const types: Record<string, Record<string, string>> = kubernetesFields.types;

const ROOT: Record<string, string> = {
  'v1/Namespace': 'V1Namespace',
  'v1/ResourceQuota': 'V1ResourceQuota',
  'v1/LimitRange': 'V1LimitRange',
  'v1/ConfigMap': 'V1ConfigMap',
  'v1/Service': 'V1Service',
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/Pod': 'V1Pod',
  'apps/v1/Deployment': 'V1Deployment',
  'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy',
  'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
};

function checkType(
  type: string,
  value: unknown,
  at: string,
  problems: string[],
): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) problems.push(`${at}: must be an array`);
    else
      value.forEach((v, i) => checkType(array[1], v, `${at}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value))
      problems.push(`${at}: must be a map`);
    else
      for (const [k, v] of Object.entries(value as Obj))
        checkType(map[1], v, `${at}.${k}`, problems);
    return;
  }
  switch (type) {
    case 'string':
    case 'Date':
      if (typeof value !== 'string') problems.push(`${at}: must be a string`);
      return;
    case 'number':
      if (typeof value !== 'number') problems.push(`${at}: must be a number`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${at}: must be a boolean`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && !Number.isInteger(value))
        problems.push(`${at}: must be an integer or a string`);
      return;
    case 'any':
    case 'object':
      return;
    default: {
      const fields = types[type];
      if (!fields) {
        problems.push(`${at}: type ${type} is not in the schema snapshot`);
        return;
      }
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${at}: must be an object (${type})`);
        return;
      }
      for (const [k, v] of Object.entries(value as Obj)) {
        if (!(k in fields))
          problems.push(`${at}.${k}: unknown field (${type})`);
        else checkType(fields[k], v, `${at}.${k}`, problems);
      }
    }
  }
}

function strictify(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strictify);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Obj = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties')
      out[k] = Object.fromEntries(
        Object.entries(v as Obj).map(([p, s]) => [p, strictify(s)]),
      );
    else if (k.startsWith('x-kubernetes-')) continue;
    else out[k] = strictify(v);
  }
  if (
    schema.properties &&
    schema.additionalProperties === undefined &&
    !schema['x-kubernetes-preserve-unknown-fields']
  )
    out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const crdValidators = new Map<string, ReturnType<typeof ajv.compile>>();
for (const [key, schema] of Object.entries({
  ...istioCrds.schemas,
  ...kserveCrds.schemas,
} as Record<string, Obj>)) {
  const s = strictify(schema);
  // metadata is checked as ObjectMeta below
  if (s.properties) delete s.properties.metadata;
  crdValidators.set(key, ajv.compile(s));
}

export const STRICT_SCHEMA_SOURCES = [
  kubernetesFields.source,
  istioCrds.source,
  kserveCrds.source,
];

export function strictProblems(manifest: Obj): string[] {
  const problems: string[] = [];
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  const root = ROOT[key];
  if (root) {
    checkType(root, manifest, manifest.kind, problems);
    return problems;
  }
  const validate = crdValidators.get(key);
  if (!validate) return [`${key}: no schema in the snapshot`];
  checkType(
    'V1ObjectMeta',
    manifest.metadata,
    `${manifest.kind}.metadata`,
    problems,
  );
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = manifest;
  if (!validate(rest))
    for (const e of validate.errors ?? [])
      problems.push(
        `${manifest.kind}${e.instancePath}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`,
      );
  return problems;
}

export function hasStrictSchema(manifest: Obj): boolean {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  return key in ROOT || crdValidators.has(key);
}
