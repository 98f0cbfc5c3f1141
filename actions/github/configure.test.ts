/**
 * tensorflow:github:configure against GitHub's official OpenAPI description served by
 * Prism (test/support/prism.ts validates every request; any violation fails the test).
 *
 * Prism is stateless and answers with GitHub's canned examples, so the test steers GitHub's
 * "state" per request with Prism's `Prefer` header:
 *  - fresh repository: 404 for the team's repository permission, CODEOWNERS and the OIDC
 *    subject template; random (dynamic) environment lists, so ours are missing;
 *  - existing repository: GitHub's examples (team "read", CODEOWNERS is a file, ruleset #42,
 *    environment "staging", OIDC subject customised with other keys).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { InputError, NotAllowedError } from '@backstage/errors';
import { mockServices } from '@backstage/backend-test-utils';
import { ScmIntegrations } from '@backstage/integration';
import yaml from 'yaml';
import { actionContext } from '../../test/support/actionContext';
import {
  isProvisioningRecordRequest,
  serveProvisioningRecord,
  usePrism,
} from '../../test/support/prism';
import { initialProvisioningRecord } from '../access/binding';
import { testProjectAccess } from '../../test/support/access/project';
import { DEFAULT_ACCESS_POLICY } from '../access/config';
import { LocalGitOpsTarget } from '../gitops/local';
import { parseIdentityConfig } from '../identity/config';
import { createIdentityProvisionAction } from '../identity/provision';
import { createGithubClient } from '../shared/github/client';
import { createGithubConfigureAction } from './configure';
import { examples } from './configure.examples';

const prism = usePrism();
const R = '/repos/acme/fraud-detector';
const T = '/orgs/acme/teams';
const naming = { namespacePrefix: 'ml-' };
const SENTINEL = 'sentinel-7c1f0e-DO-NOT-LEAK';

type State = 'fresh' | 'existing';

/** The repository's provisioning record as the publish step leaves it (what binds it to a project). */
const boundRecord = (
  project = 'fraud-detector',
  owner = 'group:default/ml-platform',
) =>
  initialProvisioningRecord({
    project: { name: project, owner, namespace: `ml-${project}` },
    initiator: 'user:default/alice',
    taskId: 't',
    repoUrl: 'github.com?owner=acme&repo=fraud-detector',
  });

function setup(state: State, options: { record?: string } = {}) {
  const record = options.record ?? boundRecord();
  const integrations = ScmIntegrations.fromConfig(
    new ConfigReader({
      integrations: {
        github: [
          { host: 'github.com', apiBaseUrl: prism.url, token: 'test-token' },
        ],
      },
    }),
  );
  const auditor = mockServices.auditor.mock();
  const action = createGithubConfigureAction({
    integrations,
    access: DEFAULT_ACCESS_POLICY,
    naming,
    projectAccess: testProjectAccess(),
    auditor,
    getClient: async target => {
      const octokit = await createGithubClient(target, {
        integrations,
        octokitOptions: {
          request: { fetch: prism.fetch, retries: 0 },
          throttle: { enabled: false },
          retry: { enabled: false },
        },
      });
      serveProvisioningRecord(octokit, record);
      octokit.hook.before('request', request => {
        const route = `${request.method} ${request.url}`;
        let prefer: string | undefined;
        if (isProvisioningRecordRequest(request)) {
          // served by serveProvisioningRecord
        } else if (state === 'fresh') {
          if (/^GET \/orgs\/\{org\}\/teams\/\{team_slug\}\/repos\//.test(route))
            prefer = 'code=404';
          if (route === 'GET /repos/{owner}/{repo}/contents/{path}')
            prefer = 'code=404';
          if (
            route === 'GET /repos/{owner}/{repo}/actions/oidc/customization/sub'
          )
            prefer = 'code=404';
          if (route === 'GET /repos/{owner}/{repo}/environments')
            prefer = 'dynamic=true';
        } else if (route === 'GET /repos/{owner}/{repo}/contents/{path}') {
          prefer = 'example=response-if-content-is-a-file';
        }
        if (prefer) request.headers = { ...request.headers, prefer };
      });
      return octokit;
    },
  });
  return { action, auditor, integrations };
}

const baseInput = {
  repoUrl: 'github.com?owner=acme&repo=fraud-detector',
  name: 'fraud-detector',
  owner: 'group:default/ml-platform',
  grants: { 'group:default/risk': ['read-metadata'] },
};

const writes = () =>
  prism.requests
    .filter(r => r.method !== 'GET')
    .map(r => `${r.method} ${r.path}`);

describe('tensorflow:github:configure against the GitHub OpenAPI description (Prism)', () => {
  beforeEach(() => prism.clear());

  it('declares full schemas and supports dry run', () => {
    const { action } = setup('fresh');
    expect(action.id).toBe('tensorflow:github:configure');
    expect(action.schema?.input).toBeDefined();
    expect(action.schema?.output).toBeDefined();
    expect(action.supportsDryRun).toBe(true);
  });

  it('fresh repository: grants teams (owner first), then CODEOWNERS, ruleset, environments; no OIDC change without trust', async () => {
    const { action, auditor } = setup('fresh');
    const { ctx, outputs } = actionContext(baseInput, {
      userRef: 'user:default/alice',
    });
    await action.handler(ctx as any);
    expect(writes()).toEqual([
      `PUT ${T}/ml-platform/repos/acme/fraud-detector`,
      `PUT ${T}/risk/repos/acme/fraud-detector`,
      `PUT ${R}/contents/.github/CODEOWNERS`,
      `POST ${R}/rulesets`,
      `PUT ${R}/environments/staging`,
      `PUT ${R}/environments/production`,
    ]);
    const body = (m: string, p: string) =>
      prism.requests.find(r => r.method === m && r.path === p)!.body as any;
    expect(body('PUT', `${T}/ml-platform/repos/acme/fraud-detector`)).toEqual({
      permission: 'maintain',
    });
    expect(body('PUT', `${T}/risk/repos/acme/fraud-detector`)).toEqual({
      permission: 'pull',
    });
    const codeowners = body('PUT', `${R}/contents/.github/CODEOWNERS`);
    expect(Buffer.from(codeowners.content, 'base64').toString()).toContain(
      '* @acme/ml-platform\n',
    );
    expect(codeowners.sha).toBeUndefined();
    expect(codeowners.branch).toBe('master');
    expect(body('POST', `${R}/rulesets`).rules).toContainEqual({
      type: 'pull_request',
      parameters: expect.objectContaining({
        require_code_owner_review: true,
        required_approving_review_count: 1,
      }),
    });
    expect(body('POST', `${R}/rulesets`).conditions).toEqual({
      ref_name: { include: ['~DEFAULT_BRANCH'], exclude: [] },
    });
    expect(body('PUT', `${R}/environments/production`)).toMatchObject({
      reviewers: [{ type: 'Team', id: 1 }],
      prevent_self_review: true,
    });
    expect(
      prism.requests.every(r => r.authorization === 'token test-token'),
    ).toBe(true);
    expect(outputs).toMatchObject({
      repositoryId: 1296269,
      repositoryOwnerId: 1,
      defaultBranch: 'master',
      rulesetId: 42,
      oidcSubject: { customised: false },
      teams: [
        {
          group: 'group:default/ml-platform',
          team: 'ml-platform',
          permission: 'maintain',
        },
        { group: 'group:default/risk', team: 'risk', permission: 'pull' },
      ],
    });
    const events = auditor.createEvent.mock.calls.map(([e]) => [
      e.eventId,
      e.severityLevel,
    ]);
    expect(events).toEqual([
      ['github-team-permission-set', 'high'],
      ['github-team-permission-set', 'high'],
      ['github-codeowners-set', 'high'],
      ['github-ruleset-set', 'high'],
      ['github-environment-set', 'high'],
      ['github-environment-set', 'high'],
    ]);
  });

  it('ruleset: false defers the ruleset (no read, no write): the template applies it after catalog:register', async () => {
    const { action } = setup('fresh');
    const { ctx, outputs } = actionContext(
      { ...baseInput, ruleset: false },
      { userRef: 'user:default/alice' },
    );
    await action.handler(ctx as any);
    expect(writes()).toEqual([
      `PUT ${T}/ml-platform/repos/acme/fraud-detector`,
      `PUT ${T}/risk/repos/acme/fraud-detector`,
      `PUT ${R}/contents/.github/CODEOWNERS`,
      `PUT ${R}/environments/staging`,
      `PUT ${R}/environments/production`,
    ]);
    expect(prism.requests.some(r => r.path.startsWith(`${R}/rulesets`))).toBe(
      false,
    );
    expect(outputs.rulesetId).toBeUndefined();
  });

  it('the create-model template registers (a direct commit to the default branch) before the no-bypass ruleset exists', () => {
    const template = yaml.parse(
      fs.readFileSync(
        path.resolve(__dirname, '../../templates/create-model/template.yaml'),
        'utf8',
      ),
    );
    const steps: Array<{
      id: string;
      action: string;
      input: Record<string, unknown>;
    }> = template.spec.steps;
    const at = (id: string) => steps.findIndex(st => st.id === id);
    const configures = steps.filter(
      st => st.action === 'tensorflow:github:configure',
    );
    const applying = configures.filter(st => st.input.ruleset !== false);
    expect(applying.map(st => st.id)).toEqual(['github-oidc']);
    // every step that commits to the model repository's default branch runs before the ruleset step
    for (const id of ['publish', 'register'])
      expect(at(id)).toBeLessThan(at('github-oidc'));
    expect(at('github-oidc')).toBe(steps.length - 1);
    expect(configures.find(st => st.id === 'github')!.input.ruleset).toBe(
      false,
    );
  });

  it('existing repository: converges — keeps matching grants, updates in place, never duplicates', async () => {
    const { action } = setup('existing');
    const { ctx } = actionContext(
      {
        ...baseInput,
        rulesetName: 'super cool ruleset',
        serviceAccount: 'ml-fraud-detector/fraud-detector-serving',
      },
      { userRef: 'user:default/alice' },
    );
    await action.handler(ctx as any);
    expect(writes()).toEqual([
      // risk already has "read" (GitHub's example): no PUT for it.
      `PUT ${T}/ml-platform/repos/acme/fraud-detector`,
      `PUT ${R}/contents/.github/CODEOWNERS`,
      `PUT ${R}/rulesets/42`,
      `PUT ${R}/environments/staging`,
      `POST ${R}/environments/staging/variables`,
      `PUT ${R}/environments/production`,
      `POST ${R}/environments/production/variables`,
    ]);
    const codeowners = prism.requests.find(
      r => r.path === `${R}/contents/.github/CODEOWNERS` && r.method === 'PUT',
    )!.body as any;
    expect(codeowners.sha).toBe('3d21ec53a331a6f037a91c368710b99387d012c1');
    expect(
      prism.requests.some(
        r => r.method === 'POST' && r.path === `${R}/rulesets`,
      ),
    ).toBe(false);
  });

  it('a retried task skips the writes it already made (checkpoints)', async () => {
    const { action, auditor } = setup('fresh');
    const first = actionContext(baseInput, { userRef: 'user:default/alice' });
    await action.handler(first.ctx as any);
    prism.clear();
    const retry = actionContext(baseInput, {
      userRef: 'user:default/alice',
      checkpoints: first.checkpoints,
    });
    await action.handler(retry.ctx as any);
    expect(writes()).toEqual([]);
    expect(auditor.createEvent).toHaveBeenCalledTimes(6);
    expect(retry.outputs.rulesetId).toBe(42);
  });

  it('dry run reads but writes nothing', async () => {
    const { action, auditor } = setup('fresh');
    const { ctx, outputs } = actionContext(baseInput, {
      userRef: 'user:default/alice',
      isDryRun: true,
    });
    await action.handler(ctx as any);
    expect(writes()).toEqual([]);
    expect(auditor.createEvent).not.toHaveBeenCalled();
    expect(outputs.changes).toHaveLength(6);
  });

  it('refuses an initiator outside the owning group before calling GitHub', async () => {
    const { action } = setup('fresh');
    const { ctx } = actionContext(baseInput, { userRef: 'user:default/bob' });
    await expect(action.handler(ctx as any)).rejects.toThrow(NotAllowedError);
    expect(prism.requests).toEqual([]);
  });

  it('creates the cloud trust first, then customises the OIDC subject; refuses a trust for another repository', async () => {
    const gitopsRepo = fs.mkdtempSync(
      path.join(os.tmpdir(), 'tf-github-order-'),
    );
    const identity = createIdentityProvisionAction({
      gitops: new LocalGitOpsTarget({ path: gitopsRepo }),
      access: DEFAULT_ACCESS_POLICY,
      identity: parseIdentityConfig({
        provider: 'eks-irsa',
        aws: {
          accountId: '123456789012',
          oidcProvider: 'oidc.eks.eu-west-1.amazonaws.com/id/ABC',
        },
      }),
      naming,
      projectAccess: testProjectAccess(),
      auditor: mockServices.auditor.mock(),
    });
    const { action, auditor } = setup('fresh');

    // 1. Repository configuration without trust: ids out, subject untouched.
    const step1 = actionContext(baseInput, { userRef: 'user:default/alice' });
    await action.handler(step1.ctx as any);
    expect(
      prism.requests.some(r => r.path.endsWith('/oidc/customization/sub')),
    ).toBe(false);

    // 2. Identity: the trust pins the repository by its numeric ids.
    const step2 = actionContext(
      {
        name: 'fraud-detector',
        owner: 'group:default/ml-platform',
        repository: {
          owner: 'acme',
          name: 'fraud-detector',
          id: step1.outputs.repositoryId,
          ownerId: step1.outputs.repositoryOwnerId,
        },
      },
      { userRef: 'user:default/alice' },
    );
    await identity.handler(step2.ctx as any);
    const trust = step2.outputs.ciTrust as any;
    const gitops = step2.outputs.gitops as any;
    const trustFile = execFileSync(
      'git',
      [
        'show',
        `${gitops.commit}:projects/ml-fraud-detector/identity/aws-iam-role-tfci-fraud-detector.yaml`,
      ],
      { cwd: gitopsRepo, encoding: 'utf8' },
    );
    expect(
      JSON.parse(yaml.parse(trustFile).spec.assumeRolePolicyDocument)
        .Statement[0].Condition.StringEquals[
        'token.actions.githubusercontent.com:sub'
      ],
    ).toEqual([
      'repository_owner_id:1:repository_id:1296269:environment:staging',
      'repository_owner_id:1:repository_id:1296269:environment:production',
    ]);

    // 3. With the trust: variables, then the subject claim, last.
    prism.clear();
    auditor.createEvent.mockClear();
    const step3 = actionContext(
      { ...baseInput, ciTrust: trust },
      { userRef: 'user:default/alice' },
    );
    await action.handler(step3.ctx as any);
    const w = writes();
    expect(w[w.length - 1]).toBe(`PUT ${R}/actions/oidc/customization/sub`);
    expect(prism.requests[prism.requests.length - 1].body).toEqual({
      use_default: false,
      include_claim_keys: ['repository_owner_id', 'repository_id', 'context'],
    });
    expect(step3.outputs.oidcSubject).toEqual({
      customised: true,
      claimKeys: ['repository_owner_id', 'repository_id', 'context'],
    });
    const last =
      auditor.createEvent.mock.calls[
        auditor.createEvent.mock.calls.length - 1
      ][0];
    expect(last).toMatchObject({
      eventId: 'github-oidc-subject-set',
      severityLevel: 'high',
    });

    // A trust for another repository is refused, and the subject is not touched.
    prism.clear();
    const other = actionContext(
      { ...baseInput, ciTrust: { ...trust, repositoryId: 999 } },
      { userRef: 'user:default/alice' },
    );
    const error = await action.handler(other.ctx as any).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /pins repository 1\/999, but acme\/fraud-detector is 1\/1296269/,
    );
    expect(
      prism.requests.some(
        r => r.method === 'PUT' && r.path.endsWith('/oidc/customization/sub'),
      ),
    ).toBe(false);
  });

  it.each(examples().map(e => [e.description, e] as const))(
    'example runs: %s',
    async (_d, example) => {
      const { action } = setup('existing');
      const step = yaml.parse(example.example).steps[0];
      const { ctx, outputs } = actionContext(step.input, {
        userRef: 'user:default/alice',
      });
      await action.handler(ctx as any);
      expect(outputs.repositoryId).toBe(1296269);
    },
  );

  it('a task secret never reaches logs, outputs, checkpoints, audit events, GitHub requests or generated files', async () => {
    const secrets = {
      backstageToken: SENTINEL,
      githubToken: `ghp_${SENTINEL}`,
    };
    const logs: unknown[] = [];
    const logger: any = {};
    for (const level of ['error', 'warn', 'info', 'debug'])
      logger[level] = (...args: unknown[]) => logs.push(args);
    logger.child = () => logger;
    const gitopsRepo = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-secret-'));
    const identityAuditor = mockServices.auditor.mock();
    const identity = createIdentityProvisionAction({
      gitops: new LocalGitOpsTarget({ path: gitopsRepo }),
      access: DEFAULT_ACCESS_POLICY,
      identity: parseIdentityConfig({
        provider: 'gke',
        gke: { projectId: 'acme-ml-prod', projectNumber: '123456789' },
      }),
      naming,
      projectAccess: testProjectAccess(),
      auditor: identityAuditor,
    });
    const { action, auditor } = setup('fresh');
    const seen: unknown[] = [];
    const run = async (act: any, input: any, dry = false) => {
      const c = actionContext(input, {
        userRef: 'user:default/alice',
        secrets,
        isDryRun: dry,
      });
      (c.ctx as any).logger = logger;
      await act.handler(c.ctx);
      seen.push(c.outputs, [...c.checkpoints.entries()]);
      return c.outputs as any;
    };
    const gh = await run(action, baseInput);
    const repository = {
      owner: 'acme',
      name: 'fraud-detector',
      id: gh.repositoryId,
      ownerId: gh.repositoryOwnerId,
    };
    await run(identity, { ...baseInput, repository }, true);
    const id = await run(identity, { ...baseInput, repository });
    await run(action, {
      ...baseInput,
      ciTrust: id.ciTrust,
      serviceAccount: id.serviceAccount.ref,
    });

    const files = execFileSync('git', ['log', '-p', '--all'], {
      cwd: gitopsRepo,
      encoding: 'utf8',
    });
    expect(files).toContain('kind: ServiceAccount');
    const audits = [auditor, identityAuditor].map(
      a => a.createEvent.mock.calls,
    );
    expect(audits.flat().length).toBeGreaterThan(5);
    const auditEvents = await Promise.all(
      [auditor, identityAuditor].flatMap(a =>
        a.createEvent.mock.results.map(async r => {
          const ev = await r.value;
          return [ev.success.mock?.calls, ev.fail.mock?.calls];
        }),
      ),
    );
    const everything = JSON.stringify({
      logs,
      seen,
      audits,
      auditEvents,
      requests: prism.requests,
      files,
    });
    expect(logs.length).toBeGreaterThan(2);
    expect(everything.length).toBeGreaterThan(10_000);
    expect(everything).not.toContain(SENTINEL);
  });
});
