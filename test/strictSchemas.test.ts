import { parse } from 'yaml';
import { DEFAULT_ACCESS_POLICY } from '../actions/access/config';
import { computeGrants } from '../actions/access/grants';
import {
  GATEWAY_DEFAULTS,
  buildGatewayManifests,
  gatewayManifestFiles,
} from '../actions/gateway';
import { parseIdentityConfig } from '../actions/identity/config';
import { buildIdentityManifests } from '../actions/identity/manifests';
import { servingManifestFiles } from '../actions/serving/files';
import {
  allVariants,
  buildVariant,
  identitySection,
  variantName,
  variantProject,
} from './support/servingVariants';
import { hasStrictSchema, strictProblems } from './support/strictSchemas';

/**
 * Every manifest the wizard generates, read back from the files that go into git, validated in strict
 * mode (unknown fields rejected) against the Kubernetes, Istio and KServe schemas, for every config
 * variant: clouds, mesh on/off, TF Serving or KServe, CPU or GPU, storage, batching/replicas.
 */
const grants = computeGrants(DEFAULT_ACCESS_POLICY, variantProject, {
  'group:default/risk': ['predict'],
});
const repository = {
  owner: 'acme',
  name: 'fraud-detector',
  id: 260064828,
  ownerId: 1342004,
};
/** Cloud IAM custom resources (Config Connector, ACK): no schema snapshot here; listed so nothing else slips through. */
const NO_SNAPSHOT = [
  'iam.cnrm.cloud.google.com/v1beta1/IAMServiceAccount',
  'iam.cnrm.cloud.google.com/v1beta1/IAMPolicyMember',
  'iam.cnrm.cloud.google.com/v1beta1/IAMWorkloadIdentityPoolProvider',
  'iam.services.k8s.aws/v1alpha1/Role',
  'eks.services.k8s.aws/v1alpha1/PodIdentityAssociation',
];

describe.each(allVariants().map(v => [variantName(v), v] as const))(
  'strict schemas: %s',
  (_n, v) => {
    it('every serving, gateway and identity manifest validates with unknown fields rejected', () => {
      const { manifests, spec } = buildVariant(v);
      const files = [
        ...servingManifestFiles(manifests, variantProject),
        ...gatewayManifestFiles(
          buildGatewayManifests(variantProject, grants, GATEWAY_DEFAULTS, {
            runtime: spec.runtime,
          }),
          variantProject,
        ),
      ];
      const objects = files.map(f => parse(f.content));
      const identity = parseIdentityConfig({
        ...identitySection(v.cloud),
        ...(v.cloud === 'none' ? {} : { ci: { enabled: true } }),
      });
      const bundle = buildIdentityManifests({
        project: variantProject,
        grants,
        identity,
        repository: v.cloud === 'none' ? undefined : repository,
        modelStorageUri: spec.storageUri,
      });
      objects.push(...bundle.manifests.map(m => JSON.parse(JSON.stringify(m))));
      expect(
        objects.some(
          o =>
            o.kind ===
            (v.runtime === 'kserve' ? 'InferenceService' : 'Deployment'),
        ),
      ).toBe(true);
      for (const o of objects.filter(x => !hasStrictSchema(x)))
        expect(NO_SNAPSHOT).toContain(`${o.apiVersion}/${o.kind}`);
      for (const o of objects.filter(x => hasStrictSchema(x))) {
        expect({
          manifest: `${o.kind} ${o.metadata.name}`,
          problems: strictProblems(o),
        }).toEqual({ manifest: `${o.kind} ${o.metadata.name}`, problems: [] });
      }
    });
  },
);

describe('strict validation rejects unknown and mistyped fields', () => {
  const v = allVariants().find(x => x.runtime === 'kserve' && x.gpus === 1)!;
  const tf = allVariants().find(
    x => x.runtime === 'tfserving' && x.gpus === 1,
  )!;
  const json = (m: unknown) => JSON.parse(JSON.stringify(m));
  it('Kubernetes: a misspelled container field and a wrong type', () => {
    const d = json(
      buildVariant(tf).manifests.find(m => m.kind === 'Deployment'),
    );
    d.spec.template.spec.containers[0].securityContex = {};
    d.spec.replicas = '2';
    expect(strictProblems(d)).toEqual([
      'Deployment.spec.replicas: must be a number',
      'Deployment.spec.template.spec.containers[0].securityContex: unknown field (V1Container)',
    ]);
  });
  it('KServe: an unknown predictor field and an unknown metadata field', () => {
    const isvc = json(
      buildVariant(v).manifests.find(m => m.kind === 'InferenceService'),
    );
    isvc.spec.predictor.gpuCount = 1;
    isvc.metadata.owner = 'x';
    expect(strictProblems(isvc)).toEqual([
      'InferenceService.metadata.owner: unknown field (V1ObjectMeta)',
      'InferenceService/spec/predictor: must NOT have additional properties (gpuCount)',
    ]);
  });
  it('Istio: an unknown AuthorizationPolicy field', () => {
    const ap = json(
      buildGatewayManifests(variantProject, grants, GATEWAY_DEFAULTS).find(
        m => m.kind === 'AuthorizationPolicy',
      ),
    );
    ap.spec.rules = [{ from: [{ source: { principal: ['x'] } }] }];
    expect(strictProblems(ap)).toEqual([
      'AuthorizationPolicy/spec/rules/0/from/0/source: must NOT have additional properties (principal)',
    ]);
  });
  it.each(['RequestAuthentication', 'Telemetry'])(
    'Istio: an unknown %s spec field',
    kind => {
      const m = json(
        buildGatewayManifests(variantProject, grants, GATEWAY_DEFAULTS).find(
          x => x.kind === kind,
        ),
      );
      expect(strictProblems(m)).toEqual([]);
      m.spec.bogus = true;
      expect(strictProblems(m)).toEqual([
        `${kind}/spec: must NOT have additional properties (bogus)`,
      ]);
    },
  );
});
