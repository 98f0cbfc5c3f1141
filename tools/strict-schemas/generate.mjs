// Regenerates the strict-schema fixtures in test/fixtures/schemas/ (see the README there):
//   node tools/strict-schemas/generate.mjs <unpacked @kubernetes/client-node package dir> <istio checkout> <kserve checkout>
// Kubernetes: the field maps of the OpenAPI-generated models of @kubernetes/client-node (attributeTypeMap),
// for every type reachable from the kinds we generate. Istio and KServe: the CRDs' openAPIV3Schema,
// descriptions removed. Checkouts are read with `git show HEAD:<path>` (bare mirrors work).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';

const [clientDir, istioRepo, kserveRepo] = process.argv.slice(2);
const out = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../test/fixtures/schemas',
);
const ROOTS = [
  'V1Namespace',
  'V1ResourceQuota',
  'V1LimitRange',
  'V1NetworkPolicy',
  'V1ConfigMap',
  'V1Deployment',
  'V1Service',
  'V1PodDisruptionBudget',
  'V1ServiceAccount',
  'V1Role',
  'V1RoleBinding',
  'V1Pod',
  'V1PodSpec',
  'V1Container',
  'V1ObjectMeta',
];

const models = path.join(clientDir, 'dist/gen/models');
const fields = {};
const pending = [...ROOTS];
while (pending.length) {
  const name = pending.pop();
  if (fields[name]) continue;
  const file = path.join(models, `${name}.js`);
  if (!fs.existsSync(file)) continue;
  const mod = await import(pathToFileURL(file).href);
  const map = mod[name].attributeTypeMap ?? [];
  fields[name] = Object.fromEntries(map.map(a => [a.baseName, a.type]));
  for (const a of map)
    for (const t of a.type.match(
      /V\d\w+|Core\w+|Storage\w+|Discovery\w+|Rbac\w+|Apps\w+|Admission\w+|Events\w+/g,
    ) ?? [])
      pending.push(t);
}
const pkg = JSON.parse(
  fs.readFileSync(path.join(clientDir, 'package.json'), 'utf8'),
);
const spec = /OpenAPI spec version: (\S+)/.exec(
  fs.readFileSync(path.join(models, 'V1Container.js'), 'utf8'),
)[1];
fs.writeFileSync(
  path.join(out, 'kubernetes-fields.json'),
  JSON.stringify(
    {
      source: `@kubernetes/client-node@${pkg.version} (Kubernetes OpenAPI ${spec})`,
      types: fields,
    },
    null,
    0,
  ) + '\n',
);

function strip(node) {
  if (Array.isArray(node)) return node.map(strip);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k]) => k !== 'description')
        .map(([k, v]) => [
          k,
          k === 'properties'
            ? Object.fromEntries(
                Object.entries(v).map(([p, s]) => [p, strip(s)]),
              )
            : strip(v),
        ]),
    );
  }
  return node;
}
function crdSchemas(repo, file, wanted) {
  const commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
  const text = execFileSync('git', ['-C', repo, 'show', `HEAD:${file}`], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const schemas = {};
  for (const doc of parseAllDocuments(text)) {
    const crd = doc.toJSON();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    for (const v of crd.spec.versions) {
      const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
      if (wanted.includes(key)) schemas[key] = strip(v.schema.openAPIV3Schema);
    }
  }
  return { source: `${file}@${commit}`, schemas };
}
fs.writeFileSync(
  path.join(out, 'istio-crds.json'),
  JSON.stringify(
    crdSchemas(istioRepo, 'manifests/charts/base/files/crd-all.gen.yaml', [
      'security.istio.io/v1/AuthorizationPolicy',
      'security.istio.io/v1/RequestAuthentication',
      'telemetry.istio.io/v1alpha1/Telemetry',
      'telemetry.istio.io/v1/Telemetry',
    ]),
  ) + '\n',
);
fs.writeFileSync(
  path.join(out, 'kserve-crds.json'),
  JSON.stringify(
    crdSchemas(
      kserveRepo,
      'config/crd/full/serving.kserve.io_inferenceservices.yaml',
      ['serving.kserve.io/v1beta1/InferenceService'],
    ),
  ) + '\n',
);
console.log(
  `wrote ${Object.keys(fields).length} Kubernetes types, Istio and KServe CRD schemas to ${out}`,
);
