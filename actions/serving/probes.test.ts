import { ConfigReader } from '@backstage/config';
import { deriveProject } from '../shared/naming';
import { readServingConfig } from './config';
import type { InferenceService } from './kserve';
import { buildServingManifests } from './manifests';
import { resolveServingSpec, type ServingRequest } from './request';

const project = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  { namespacePrefix: 'ml-' },
);

function container(request: Partial<ServingRequest>, runtime?: 'kserve') {
  const cfg = readServingConfig(
    new ConfigReader({ tensorflow: { serving: runtime ? { runtime } : {} } }),
  );
  const spec = resolveServingSpec(
    { ...request } as ServingRequest,
    project,
    cfg,
  );
  const { manifests } = buildServingManifests(project, spec, cfg);
  if (runtime)
    return (
      manifests.find(m => m.kind === 'InferenceService') as InferenceService
    ).spec.predictor.model;
  const deployment = manifests.find(m => m.kind === 'Deployment') as any;
  return deployment.spec.template.spec.containers[0];
}

describe('readiness reflects model_version_status AVAILABLE', () => {
  it('asks for metadata, which TF Serving only serves for an AVAILABLE version', () => {
    const c = container({});
    expect(c.readinessProbe.httpGet).toEqual({
      path: '/v1/models/fraud-detector/metadata',
      port: 'http',
    });
    // status answers 200 while LOADING too: it stays the startup/liveness check only
    expect(c.startupProbe.httpGet.path).toBe('/v1/models/fraud-detector');
  });

  it('with pinned versions, asks for the highest pinned version', () => {
    const c = container({
      versionPolicy: 'specific',
      versions: [3, 12, 4],
    } as Partial<ServingRequest>);
    expect(c.readinessProbe.httpGet.path).toBe(
      '/v1/models/fraud-detector/versions/12/metadata',
    );
  });

  it("KServe's predictor gets the same readiness on the runtime's REST port", () => {
    const m = container({}, 'kserve');
    expect(m.readinessProbe).toMatchObject({
      httpGet: { path: '/v1/models/fraud-detector/metadata', port: 8080 },
    });
  });
});
