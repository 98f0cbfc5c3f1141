import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_ACCESS_POLICY } from '../../actions/access/config';
import { computeGrants } from '../../actions/access/grants';
import {
  desiredVariables,
  planVariables,
} from '../../actions/github/configurePlan';
import {
  CI_VARIABLES,
  OPTIONAL_REPOSITORY_VARIABLES,
  assertCiContractConfig,
} from '../../actions/identity/ciContract';
import { parseIdentityConfig } from '../../actions/identity/config';
import { buildIdentityManifests } from '../../actions/identity/manifests';
import { createModelCreateAction } from '../../actions/model/create';
import { deriveProject } from '../../actions/shared/naming';
import { testProjectAccess } from '../support/access/project';
import { actionContext, mockAuditor } from '../support/actionContext';
import { identitySection, type Cloud } from '../support/servingVariants';

/**
 * Per cloud: render the project with the real tensorflow:model:create action, run the identity step's and
 * the github step's plans as the create-model template wires them, parse the workflow, and compare the
 * variable names it reads with the names the steps set. Any difference fails.
 */
const repoRoot = path.resolve(__dirname, '../..');
const project = deriveProject(
  { name: 'fraud-detector', owner: 'group:default/ml-platform' },
  { namespacePrefix: 'ml-' },
);
const githubRepository = {
  owner: 'acme',
  name: 'fraud-detector',
  id: 260064828,
  ownerId: 1342004,
};
const STORAGE: Record<Cloud, string> = {
  none: 'pvc://models',
  gke: 'gs://acme-models/serving',
  'eks-irsa': 's3://acme-models/serving',
  'eks-pod-identity': 's3://acme-models/serving',
};

/** The create-model template's github-oidc step input keys: they decide which extra variables github:configure sets. */
function githubOidcStepInput(): Record<string, unknown> {
  const template = parseYaml(
    fs.readFileSync(
      path.join(repoRoot, 'templates/create-model/template.yaml'),
      'utf8',
    ),
  );
  const step = template.spec.steps.find(
    (s: { id: string }) => s.id === 'github-oidc',
  );
  return step.input;
}

/** `vars.NAME` read anywhere in a job, by job. */
function varsRead(workflow: any): {
  environment: Set<string>;
  repository: Set<string>;
} {
  const environment = new Set<string>();
  const repository = new Set<string>();
  for (const job of Object.values<any>(workflow.jobs)) {
    const names = [
      ...JSON.stringify(job).matchAll(/\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}/g),
    ].map(m => m[1]);
    for (const n of names) (job.environment ? environment : repository).add(n);
  }
  return { environment, repository };
}

async function renderWorkflow(
  contract: ReturnType<typeof assertCiContractConfig>,
) {
  const action = createModelCreateAction({
    skeletonsDir: path.join(repoRoot, 'skeletons'),
    auditor: mockAuditor(),
    naming: { namespacePrefix: 'ml-' },
    projectAccess: testProjectAccess(),
    ci: contract,
  });
  // a caller-supplied `ci` value is ignored: the platform's contract wins
  const values = {
    description: 'd',
    system: '',
    lifecycle: 'experimental',
    ci: { gcp: true, aws: true, deploy: true },
  };
  const { ctx, workspacePath } = actionContext({
    name: project.name,
    owner: project.owner,
    skeleton: 'model-project',
    values,
  });
  await action.handler(ctx as any);
  return parseYaml(
    fs.readFileSync(
      path.join(workspacePath, '.github/workflows/model.yaml'),
      'utf8',
    ),
  );
}

describe.each(['gke', 'eks-irsa', 'eks-pod-identity', 'none'] as const)(
  'CI contract on %s',
  cloud => {
    it('the workflow reads exactly the variables the identity and github steps set', async () => {
      const identity = parseIdentityConfig({
        ...identitySection(cloud),
        ...(cloud === 'none' ? {} : { ci: { enabled: true } }),
      });
      const contract = assertCiContractConfig(identity, STORAGE[cloud]);
      const workflow = await renderWorkflow(contract);

      const grants = computeGrants(DEFAULT_ACCESS_POLICY, project, {});
      const bundle = buildIdentityManifests({
        project,
        grants,
        identity,
        repository: cloud === 'none' ? undefined : githubRepository,
        modelStorageUri: `${STORAGE[cloud]}/${project.name}`,
      });
      const input = githubOidcStepInput();
      const desired = desiredVariables(bundle.ciTrust?.variables, {
        ...(input.serviceAccount !== undefined
          ? { serviceAccount: 'ml-fraud-detector/fraud-detector-serving' }
          : {}),
        ...(input.endpoint !== undefined
          ? { endpoint: 'https://models.example.com/fraud-detector' }
          : {}),
      });
      const set = planVariables([], desired)
        .map(c => c.name)
        .sort();

      const read = varsRead(workflow);
      expect([...read.environment].sort()).toEqual(set);
      expect(set).toEqual(contract.variables);
      expect(contract.variables).toEqual(
        Object.keys(CI_VARIABLES[contract.cloud]).sort(),
      );
      expect([...read.repository].sort()).toEqual(
        Object.keys(OPTIONAL_REPOSITORY_VARIABLES).sort(),
      );
      for (const v of Object.values(desired)) expect(v).not.toBe('');

      const deployJobs = Object.keys(workflow.jobs).filter(j =>
        j.startsWith('deploy-'),
      );
      expect(deployJobs).toEqual(
        cloud === 'none' ? [] : ['deploy-staging', 'deploy-production'],
      );
      const uses = JSON.stringify(workflow.jobs);
      expect(uses.includes('google-github-actions/auth@')).toBe(
        cloud === 'gke',
      );
      expect(uses.includes('aws-actions/configure-aws-credentials@')).toBe(
        cloud.startsWith('eks'),
      );
      // (no variables at all without a cloud: `set` is empty above)
      expect(desired.MODEL_STORAGE_URI).toBe(
        cloud === 'none' ? undefined : `${STORAGE[cloud]}/fraud-detector`,
      );
    });
  },
);

describe('the contract check fails on a difference', () => {
  it('an extra variable set by the github step is a difference', async () => {
    const identity = parseIdentityConfig({
      ...identitySection('gke'),
      ci: { enabled: true },
    });
    const contract = assertCiContractConfig(identity, STORAGE.gke);
    const workflow = await renderWorkflow(contract);
    const set = Object.keys(
      desiredVariables(
        {
          GCP_WORKLOAD_IDENTITY_PROVIDER: 'p',
          GCP_SERVICE_ACCOUNT: 's',
          MODEL_STORAGE_URI: 'gs://x',
        },
        { serviceAccount: 'x' },
      ),
    ).sort();
    expect([...varsRead(workflow).environment].sort()).not.toEqual(set);
  });

  it('AWS CI trust without a region fails at start-up naming the key', () => {
    const identity = parseIdentityConfig({
      provider: 'eks-irsa',
      aws: {
        accountId: '111122223333',
        oidcProvider: 'oidc.eks.eu-west-1.amazonaws.com/id/A',
      },
    });
    expect(() => assertCiContractConfig(identity, STORAGE['eks-irsa'])).toThrow(
      /tensorflow\.identity\.aws\.region/,
    );
  });
});
