import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ACCESS_POLICY } from '../actions/access/config';
import { computeGrants } from '../actions/access/grants';
import { CODEOWNERS_PATH } from '../actions/github/configureSteps';
import { GATEWAY_DEFAULTS, buildGatewayManifests } from '../actions/gateway';
import { PROVISIONING_RECORD_FILE } from '../actions/catalog/provisioning';
import { parseIdentityConfig } from '../actions/identity/config';
import { buildIdentityManifests } from '../actions/identity/manifests';
import { DEFAULT_REPORT_PATH } from '../actions/model/validate';
import { renderSkeleton } from '../actions/model/skeleton';
import {
  allVariants,
  buildVariant,
  identitySection,
  variantProject,
  CLOUDS,
} from './support/servingVariants';

const repoRoot = path.resolve(__dirname, '..');
const doc = fs.readFileSync(
  path.join(repoRoot, 'docs/generated-files.md'),
  'utf8',
);

describe('docs/generated-files.md', () => {
  it('lists every file the wizard writes into the model repository', async () => {
    for (const cloud of ['gcp', 'aws', 'none'] as const) {
      const files = await renderSkeleton(
        path.join(repoRoot, 'skeletons/model-project'),
        {
          name: 'fraud-detector',
          description: 'd',
          owner: 'group:default/ml-platform',
          system: '',
          lifecycle: 'experimental',
          ci: {
            gcp: cloud === 'gcp',
            aws: cloud === 'aws',
            deploy: cloud !== 'none',
            cloud,
          },
        },
      );
      const paths = [
        ...files.map(f => f.path),
        DEFAULT_REPORT_PATH,
        CODEOWNERS_PATH,
        PROVISIONING_RECORD_FILE,
      ];
      expect({
        cloud,
        missing: paths.filter(p => !doc.includes(`\`${p}\``)),
      }).toEqual({ cloud, missing: [] });
    }
  });

  it('lists every kind of GitOps manifest in every config variant', () => {
    const kinds = new Set<string>();
    const grants = computeGrants(DEFAULT_ACCESS_POLICY, variantProject, {});
    for (const v of allVariants()) {
      const { manifests, spec } = buildVariant(v);
      manifests.forEach(m => kinds.add(m.kind));
      buildGatewayManifests(variantProject, grants, GATEWAY_DEFAULTS, {
        runtime: spec.runtime,
      }).forEach(m => kinds.add(m.kind!));
    }
    for (const cloud of CLOUDS) {
      const identity = parseIdentityConfig({
        ...identitySection(cloud),
        ...(cloud === 'none' ? {} : { ci: { enabled: true } }),
      });
      const repository =
        cloud === 'none'
          ? undefined
          : { owner: 'acme', name: 'x', id: 1, ownerId: 2 };
      buildIdentityManifests({
        project: variantProject,
        grants,
        identity,
        repository,
      }).manifests.forEach(m => kinds.add(m.kind));
    }
    expect(kinds.size).toBeGreaterThan(15);
    expect({
      missing: [...kinds].filter(k => !doc.includes(`\`${k}\``)),
    }).toEqual({ missing: [] });
  });
});
