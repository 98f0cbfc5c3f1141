/**
 * Every tensorflow:* action built the way its own tests build it, inside one sandbox folder
 * per action (workspace, local model repositories, local GitOps repository), with recorders
 * for every kind of side effect the hostile-input corpus must not cause.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import type { Entity } from '@backstage/catalog-model';
import { ScmIntegrations } from '@backstage/integration';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { DEFAULT_ACCESS_POLICY } from '../../actions/access/config';
import { writeProvisioningRecord } from './access/project';
import type { ProjectAccess } from '../../actions/access/project';
import type { ProjectNamingOptions } from '../../actions/shared/naming';
import { LocalClaimStore } from '../../actions/gitops/claims';
import { DEFAULT_CATALOG_CONFIG } from '../../actions/catalog/config';
import { createCatalogRegisterAction } from '../../actions/catalog/register';
import { readGatewayConfig } from '../../actions/gateway';
import { createGithubClient } from '../../actions/shared/github/client';
import { createGithubConfigureAction } from '../../actions/github/configure';
import { LocalGitOpsTarget } from '../../actions/gitops/local';
import { parseIdentityConfig } from '../../actions/identity/config';
import { createIdentityProvisionAction } from '../../actions/identity/provision';
import { createModelCreateAction } from '../../actions/model/create';
import { createModelValidateAction } from '../../actions/model/validate';
import { starterModelDir } from '../../tools/starter-model/starter';
import { LocalRepositoryPublisher } from '../../actions/repository/local';
import { createRepositoryPublishAction } from '../../actions/repository/publish';
import { readServingConfig } from '../../actions/serving/config';
import { createServingProvisionAction } from '../../actions/serving/provision';
import { actionContext } from './actionContext';
import { gitRefs, snapshotTree } from './hostile';

const user = (name: string, memberOf: string[]): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name, namespace: 'default' },
  spec: { memberOf },
  relations: memberOf.map(g => ({
    type: 'memberOf',
    targetRef: `group:default/${g}`,
  })),
});
const group = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name, namespace: 'default' },
  spec: { type: 'team', children: [] },
});
/** The org: jdoe is a member of the owning group ml-platform; risk is another group. */
export const ORG: Entity[] = [
  group('ml-platform'),
  group('risk'),
  user('jdoe', ['ml-platform']),
];
export const INITIATOR = 'user:default/jdoe';
/** The only host the UrlReader may read from. */
export const ALLOWED_MODEL_HOST = 'models.example.com';

export interface SideEffects {
  /** Paths added, removed or changed anywhere in the sandbox (workspace, repositories). */
  files: string[];
  /** Git repositories whose refs changed. */
  refs: string[];
  catalogWrites: number;
  auditSuccesses: number;
  auditEvents: number;
  githubRequests: string[];
}

export interface HostileHarness {
  id: string;
  action: {
    schema?: { input?: unknown };
    handler: (ctx: any) => Promise<void>;
  };
  /** A valid input the cases start from. */
  base: Record<string, unknown>;
  /** Runs the handler on `input`; resolves with the error (or undefined) and the side effects. */
  run(
    input: Record<string, unknown>,
    opts?: { isDryRun?: boolean },
  ): Promise<{ error: unknown; effects: SideEffects }>;
}

function diff(
  before: Record<string, string>,
  after: Record<string, string>,
): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter(k => before[k] !== after[k]).sort();
}

interface Recorders {
  auditor: ReturnType<typeof mockServices.auditor.mock>;
  catalogWrites: () => number;
  githubRequests: string[];
}

/** Shared run loop: fresh workspace holding one file, snapshot, run, compare. */
function runner(
  sandbox: string,
  repoRoots: string[],
  build: () => { action: HostileHarness['action']; rec: Recorders },
  seed?: (workspacePath: string) => void,
) {
  let n = 0;
  return async (
    input: Record<string, unknown>,
    opts: { isDryRun?: boolean } = {},
  ) => {
    const workspacePath = path.join(sandbox, `ws-${++n}`);
    fs.mkdirSync(workspacePath);
    fs.writeFileSync(
      path.join(workspacePath, 'existing.txt'),
      'held before the step\n',
    );
    seed?.(workspacePath);
    const { action, rec } = build();
    const filesBefore = snapshotTree(sandbox);
    const refsBefore = Object.assign({}, ...repoRoots.map(gitRefs));
    const { ctx } = actionContext(input, {
      workspacePath,
      userRef: INITIATOR,
      isDryRun: opts.isDryRun,
    });
    // Scratch space as the scaffolder gives it: outside the workspace, removed after the task.
    (ctx as any).createTemporaryDirectory = async () =>
      fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-scratch-'));
    let error: unknown;
    try {
      await action.handler(ctx as any);
    } catch (e) {
      error = e;
    }
    const events = await Promise.all(
      rec.auditor.createEvent.mock.results.map(r => r.value),
    );
    const effects: SideEffects = {
      files: diff(filesBefore, snapshotTree(sandbox)),
      refs: diff(refsBefore, Object.assign({}, ...repoRoots.map(gitRefs))),
      catalogWrites: rec.catalogWrites(),
      auditSuccesses: events.filter((e: any) => e.success.mock.calls.length > 0)
        .length,
      auditEvents: events.length,
      githubRequests: [...rec.githubRequests],
    };
    fs.rmSync(workspacePath, { recursive: true, force: true });
    return { error, effects };
  };
}

function spyCatalog(entities: Entity[]): {
  catalog: CatalogService;
  writes: () => number;
} {
  const catalog = catalogServiceMock({ entities });
  const add = jest.spyOn(catalog, 'addLocation');
  const refresh = jest.spyOn(catalog, 'refreshEntity');
  const remove = jest.spyOn(catalog, 'removeLocationById');
  return {
    catalog,
    writes: () =>
      add.mock.calls.length +
      refresh.mock.calls.length +
      remove.mock.calls.length,
  };
}

/**
 * Optional variations of a harness: the naming options (the owner rule) the action is built with,
 * and the owner of the base input and of the published repository's provisioning record.
 */
export interface HarnessOptions {
  naming?: ProjectNamingOptions;
  owner?: string;
}
const OWNER = 'group:default/ml-platform';
const harnessNaming = (opts: HarnessOptions): ProjectNamingOptions =>
  opts.naming ?? { namespacePrefix: 'ml-' };

/** Project claims in a git repository inside the sandbox, so a claim made on bad input shows as a side effect. */
function projectAccess(
  sandbox: string,
  auditor: ProjectAccess['auditor'],
  catalog: CatalogService = spyCatalog(ORG).catalog,
): ProjectAccess {
  return {
    catalog,
    policy: DEFAULT_ACCESS_POLICY,
    auditor,
    claims: new LocalClaimStore(
      new LocalGitOpsTarget({ path: path.join(sandbox, 'claims') }),
    ),
  };
}

/** A model repository as tensorflow:repository:publish leaves it: bound to fraud-detector by its record. */
async function publishedRepository(
  sandbox: string,
  owner = OWNER,
): Promise<{ root: string; publisher: LocalRepositoryPublisher }> {
  const root = path.join(sandbox, 'repos');
  fs.mkdirSync(root);
  const publisher = new LocalRepositoryPublisher(root);
  const src = path.join(sandbox, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'README.md'), '# fraud-detector\n');
  writeProvisioningRecord(src, undefined, owner);
  await publisher.publish({
    repoUrl: 'local?repo=fraud-detector',
    sourceDir: src,
    message: 'Initial commit',
    author: { name: 'jdoe', email: 'jdoe@x' },
  });
  return { root, publisher };
}

const noGithub = (): Recorders['githubRequests'] => [];

export function sandboxDir(id: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `hostile-${id}-`));
}

export function modelCreate(
  sandbox: string,
  skeletonsDir: string,
  opts: HarnessOptions = {},
): HostileHarness {
  const build = () => {
    const auditor = mockServices.auditor.mock();
    return {
      action: createModelCreateAction({
        skeletonsDir,
        auditor,
        naming: harnessNaming(opts),
        projectAccess: projectAccess(sandbox, auditor),
      }) as any,
      rec: { auditor, catalogWrites: () => 0, githubRequests: noGithub() },
    };
  };
  return {
    id: 'tensorflow:model:create',
    action: build().action,
    base: {
      name: 'fraud-detector',
      owner: opts.owner ?? OWNER,
      skeleton: 'model-project',
      targetPath: 'project',
      values: {
        description: 'Scores card transactions',
        system: '',
        lifecycle: 'experimental',
        modelName: 'fraud-detector',
      },
    },
    run: runner(sandbox, [path.join(sandbox, 'claims')], build),
  };
}

export function modelValidate(
  sandbox: string,
  opts: HarnessOptions = {},
): HostileHarness {
  const urlReader = UrlReaders.default({
    config: new ConfigReader({
      backend: { reading: { allow: [{ host: ALLOWED_MODEL_HOST }] } },
    }),
    logger: mockServices.logger.mock(),
  });
  const build = () => {
    const auditor = mockServices.auditor.mock();
    return {
      action: createModelValidateAction({
        urlReader,
        auditor,
        naming: harnessNaming(opts),
        projectAccess: projectAccess(sandbox, auditor),
      }) as any,
      rec: { auditor, catalogWrites: () => 0, githubRequests: noGithub() },
    };
  };
  // Every workspace holds a valid model, so the cases get past it to the field under test.
  const run = runner(sandbox, [], build, ws =>
    fs.cpSync(starterModelDir(), path.join(ws, 'model'), { recursive: true }),
  );
  return {
    id: 'tensorflow:model:validate',
    action: build().action,
    base: {
      name: 'fraud-detector',
      owner: opts.owner ?? OWNER,
      modelPath: 'model',
      runs: 1,
      warmupRuns: 1,
      reportPath: 'smoke-report.json',
    },
    run,
  };
}

export async function repositoryPublish(
  sandbox: string,
  opts: HarnessOptions = {},
): Promise<HostileHarness> {
  const { root, publisher } = await publishedRepository(sandbox, opts.owner);
  const build = () => {
    const auditor = mockServices.auditor.mock();
    return {
      action: createRepositoryPublishAction({
        publishers: [publisher],
        auditor,
        naming: harnessNaming(opts),
        projectAccess: projectAccess(sandbox, auditor),
      }) as any,
      rec: { auditor, catalogWrites: () => 0, githubRequests: noGithub() },
    };
  };
  return {
    id: 'tensorflow:repository:publish',
    action: build().action,
    base: {
      name: 'fraud-detector',
      owner: opts.owner ?? OWNER,
      repoUrl: 'local?repo=fraud-detector',
      sourcePath: '.',
      defaultBranch: 'main',
      gitCommitMessage: 'Initial commit',
    },
    run: runner(sandbox, [root, path.join(sandbox, 'claims')], build),
  };
}

export function githubConfigure(
  sandbox: string,
  opts: HarnessOptions = {},
): HostileHarness {
  const integrations = ScmIntegrations.fromConfig(
    new ConfigReader({
      integrations: {
        github: [
          {
            host: 'github.com',
            apiBaseUrl: 'http://127.0.0.1:9/api',
            token: 'test-token',
          },
        ],
      },
    }),
  );
  const build = () => {
    const auditor = mockServices.auditor.mock();
    const githubRequests: string[] = [];
    const action = createGithubConfigureAction({
      integrations,
      access: DEFAULT_ACCESS_POLICY,
      naming: harnessNaming(opts),
      projectAccess: projectAccess(sandbox, auditor),
      auditor,
      // Bad input must be refused before any call: every request fails the case.
      getClient: target =>
        createGithubClient(target, {
          integrations,
          octokitOptions: {
            request: {
              fetch: async (url: string, init?: { method?: string }) => {
                githubRequests.push(`${init?.method ?? 'GET'} ${url}`);
                throw new Error(
                  `GitHub was called with bad input: ${init?.method ?? 'GET'} ${url}`,
                );
              },
              retries: 0,
            },
            throttle: { enabled: false },
            retry: { enabled: false },
          },
        }),
    });
    return {
      action: action as any,
      rec: { auditor, catalogWrites: () => 0, githubRequests },
    };
  };
  return {
    id: 'tensorflow:github:configure',
    action: build().action,
    base: {
      repoUrl: 'github.com?owner=acme&repo=fraud-detector',
      name: 'fraud-detector',
      owner: opts.owner ?? OWNER,
      grants: { 'group:default/risk': ['predict'] },
      environments: ['staging', 'production'],
      serviceAccount: 'ml-fraud-detector/fraud-detector-serving',
      endpoint: 'https://models.example.com/v1/models/fraud-detector',
      rulesetName: 'tensorflow-default-branch-review',
    },
    run: runner(sandbox, [path.join(sandbox, 'claims')], build),
  };
}

export function identityProvision(
  sandbox: string,
  opts: HarnessOptions = {},
): HostileHarness {
  const repo = path.join(sandbox, 'gitops');
  const identity = parseIdentityConfig({
    provider: 'eks-irsa',
    aws: {
      accountId: '123456789012',
      oidcProvider: 'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF',
    },
  });
  const build = () => {
    const auditor = mockServices.auditor.mock();
    const { catalog, writes } = spyCatalog(ORG);
    const action = createIdentityProvisionAction({
      gitops: new LocalGitOpsTarget({ path: repo }),
      access: DEFAULT_ACCESS_POLICY,
      identity,
      naming: harnessNaming(opts),
      auditor,
      projectAccess: projectAccess(sandbox, auditor, catalog),
    });
    return {
      action: action as any,
      rec: { auditor, catalogWrites: writes, githubRequests: noGithub() },
    };
  };
  return {
    id: 'tensorflow:identity:provision',
    action: build().action,
    base: {
      name: 'fraud-detector',
      owner: opts.owner ?? OWNER,
      grants: { 'group:default/risk': ['predict'] },
      repository: {
        owner: 'acme',
        name: 'fraud-detector',
        id: 74,
        ownerId: 65,
      },
    },
    run: runner(sandbox, [repo], build),
  };
}

export function servingProvision(
  sandbox: string,
  opts: HarnessOptions = {},
): HostileHarness {
  const repo = path.join(sandbox, 'gitops');
  const serving = readServingConfig(
    new ConfigReader({
      tensorflow: {
        serving: { gateway: { publicBaseUrl: 'https://models.example.com' } },
      },
    }),
  );
  const build = () => {
    const auditor = mockServices.auditor.mock();
    const action = createServingProvisionAction({
      gitops: new LocalGitOpsTarget({ path: repo }),
      serving,
      naming: harnessNaming(opts),
      auditor,
      access: DEFAULT_ACCESS_POLICY,
      gateway: readGatewayConfig(new ConfigReader({})),
      projectAccess: projectAccess(sandbox, auditor),
    });
    return {
      action: action as any,
      rec: { auditor, catalogWrites: () => 0, githubRequests: noGithub() },
    };
  };
  return {
    id: 'tensorflow:serving:provision',
    action: build().action,
    base: {
      name: 'fraud-detector',
      owner: opts.owner ?? OWNER,
      environment: serving.environments[0],
      replicas: 1,
      gpus: 0,
      cpu: '1',
      memory: '1Gi',
      grants: { 'group:default/risk': ['predict'] },
    },
    run: runner(sandbox, [repo], build),
  };
}

export async function catalogRegister(
  sandbox: string,
  opts: HarnessOptions = {},
): Promise<HostileHarness> {
  const { root, publisher } = await publishedRepository(sandbox, opts.owner);
  const build = () => {
    const auditor = mockServices.auditor.mock();
    const { catalog, writes } = spyCatalog(ORG);
    const action = createCatalogRegisterAction({
      catalog,
      publishers: [publisher],
      auditor,
      naming: harnessNaming(opts),
      catalogConfig: { ...DEFAULT_CATALOG_CONFIG, waitTimeoutSeconds: 1 },
      baseUrl: 'http://localhost:3000',
      pollIntervalMs: 5,
      access: DEFAULT_ACCESS_POLICY,
      projectAccess: projectAccess(sandbox, auditor, catalog),
    });
    return {
      action: action as any,
      rec: { auditor, catalogWrites: writes, githubRequests: noGithub() },
    };
  };
  return {
    id: 'tensorflow:catalog:register',
    action: build().action,
    base: {
      name: 'fraud-detector',
      owner: opts.owner ?? OWNER,
      description: 'Scores card transactions',
      lifecycle: 'experimental',
      repoUrl: 'local?repo=fraud-detector',
      repoContentsUrl: 'https://git.example.com/fraud-detector',
      model: {
        signature: {
          name: 'serving_default',
          inputs: [{ name: 'features', dtype: 'float32', shape: [-1, 30] }],
          outputs: [{ name: 'fraud_score', dtype: 'float32', shape: [-1, 1] }],
        },
        smoke: { backend: 'cpu', device: 'cpu', p50Ms: 2.5 },
      },
      serving: {
        namespace: 'ml-fraud-detector',
        restUrl:
          'http://fraud-detector.ml-fraud-detector.svc.cluster.local:8501/v1/models/fraud-detector',
        grpcUrl: 'fraud-detector.ml-fraud-detector.svc.cluster.local:8500',
      },
      identity: {
        serviceAccount: {
          namespace: 'ml-fraud-detector',
          name: 'fraud-detector-serving',
        },
        grants: {
          'group:default/ml-platform': ['admin'],
          'group:default/risk': ['predict'],
        },
      },
    },
    run: runner(sandbox, [root], build),
  };
}
