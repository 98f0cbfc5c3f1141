import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NotAllowedError } from '@backstage/errors';
import { mockServices } from '@backstage/backend-test-utils';
import yaml from 'yaml';
import { actionContext } from '../../test/support/actionContext';
import { DEFAULT_ACCESS_POLICY, type AccessPolicy } from '../access/config';
import { testProjectAccess } from '../../test/support/access/project';
import { LocalGitOpsTarget } from '../gitops/local';
import type { GitOpsChange, GitOpsResult, GitOpsTarget } from '../gitops/types';
import { parseIdentityConfig, type IdentityConfig } from './config';
import { createIdentityProvisionAction } from './provision';
import { examples } from './provision.examples';

const naming = { namespacePrefix: 'ml-' };
const identity = parseIdentityConfig({
  provider: 'eks-irsa',
  aws: {
    accountId: '123456789012',
    oidcProvider: 'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF',
  },
});
const input = {
  name: 'fraud-detector',
  owner: 'group:default/ml-platform',
  grants: { 'group:default/risk': ['predict', 'read-metadata'] },
  repository: { owner: 'acme', name: 'fraud-detector', id: 74, ownerId: 65 },
};

function gitShow(repo: string, spec: string): string {
  return execFileSync('git', ['show', spec], { cwd: repo, encoding: 'utf8' });
}
function branchExists(repo: string, branch: string): boolean {
  try {
    execFileSync(
      'git',
      ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`],
      { cwd: repo, stdio: 'ignore' },
    );
    return true;
  } catch {
    return false;
  }
}

function setup(
  options: {
    access?: AccessPolicy;
    gitops?: GitOpsTarget;
    identity?: IdentityConfig;
  } = {},
) {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-identity-gitops-'));
  const gitops = options.gitops ?? new LocalGitOpsTarget({ path: repo });
  const auditor = mockServices.auditor.mock();
  const action = createIdentityProvisionAction({
    gitops,
    access: options.access ?? DEFAULT_ACCESS_POLICY,
    identity: options.identity ?? identity,
    naming,
    projectAccess: testProjectAccess(),
    auditor,
  });
  return { repo, action, auditor };
}

describe('tensorflow:identity:provision', () => {
  it('declares full input and output schemas and supports dry run', () => {
    const { action } = setup();
    expect(action.id).toBe('tensorflow:identity:provision');
    expect(action.schema?.input).toBeDefined();
    expect(action.schema?.output).toBeDefined();
    expect(action.supportsDryRun).toBe(true);
  });

  it('dry run returns the manifests without proposing or auditing', async () => {
    const { action, repo, auditor } = setup();
    const { ctx, outputs } = actionContext(input, {
      isDryRun: true,
      userRef: 'user:default/alice',
    });
    await action.handler(ctx as any);
    const manifests = outputs.manifests as { path: string; content: string }[];
    expect(manifests.map(m => m.path)).toEqual([
      'projects/ml-fraud-detector/identity/core-serviceaccount-fraud-detector-serving.yaml',
      'projects/ml-fraud-detector/identity/rbac-role-tensorflow-admin.yaml',
      'projects/ml-fraud-detector/identity/rbac-rolebinding-tensorflow-admin.yaml',
      'projects/ml-fraud-detector/identity/rbac-role-tensorflow-read-metadata.yaml',
      'projects/ml-fraud-detector/identity/rbac-rolebinding-tensorflow-read-metadata.yaml',
      'projects/ml-fraud-detector/identity/aws-iam-role-tf-fraud-detector.yaml',
      'projects/ml-fraud-detector/identity/aws-iam-role-tfci-fraud-detector.yaml',
    ]);
    expect(yaml.parse(manifests[0].content)).toMatchObject({
      kind: 'ServiceAccount',
      automountServiceAccountToken: false,
    });
    expect(outputs.gitops).toBeUndefined();
    expect(branchExists(repo, 'model/fraud-detector')).toBe(false);
    expect(auditor.createEvent).not.toHaveBeenCalled();
  });

  it('proposes the manifests on the project branch, audits with severity high, and converges on re-run', async () => {
    const { action, repo, auditor } = setup();
    const first = actionContext(input, { userRef: 'user:default/alice' });
    await action.handler(first.ctx as any);
    expect(first.outputs.serviceAccount).toEqual({
      namespace: 'ml-fraud-detector',
      name: 'fraud-detector-serving',
      ref: 'ml-fraud-detector/fraud-detector-serving',
    });
    expect(first.outputs.grants).toEqual({
      'group:default/ml-platform': ['admin'],
      'group:default/risk': ['predict', 'read-metadata'],
    });
    expect(first.outputs.identities).toMatchObject({
      provider: 'eks-irsa',
      principal: 'arn:aws:iam::123456789012:role/tensorflow/tf-fraud-detector',
    });
    expect(first.outputs.ciTrust).toMatchObject({
      ref: 'aws:arn:aws:iam::123456789012:role/tensorflow/tfci-fraud-detector',
      repositoryId: 74,
    });
    const result = first.outputs.gitops as GitOpsResult;
    expect(result).toMatchObject({
      target: 'local',
      branch: 'model/fraud-detector',
      changed: true,
    });
    const sa = yaml.parse(
      gitShow(
        repo,
        `${result.commit}:projects/ml-fraud-detector/identity/core-serviceaccount-fraud-detector-serving.yaml`,
      ),
    );
    expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(
      'arn:aws:iam::123456789012:role/tensorflow/tf-fraud-detector',
    );
    expect(auditor.createEvent).toHaveBeenCalledTimes(1);
    expect(auditor.createEvent).toHaveBeenCalledWith(
      expect.objectContaining({
        eventId: 'identity-provisioned',
        severityLevel: 'high',
        meta: expect.objectContaining({
          initiator: 'user:default/alice',
          taskId: 'task-1234',
          namespace: 'ml-fraud-detector',
        }),
      }),
    );

    // Retry inside the same task: the checkpoint returns the earlier result, nothing is proposed or audited again.
    const retry = actionContext(input, {
      userRef: 'user:default/alice',
      checkpoints: first.checkpoints,
    });
    await action.handler(retry.ctx as any);
    expect(retry.outputs.gitops).toEqual(result);
    expect(auditor.createEvent).toHaveBeenCalledTimes(1);

    // A new task with the same input: the branch already holds exactly these files.
    const again = actionContext(input, { userRef: 'user:default/alice' });
    await action.handler(again.ctx as any);
    expect(again.outputs.gitops).toMatchObject({
      commit: result.commit,
      changed: false,
    });
  });

  it('refuses an initiator outside the owning group and creates nothing', async () => {
    const { action, repo, auditor } = setup();
    const { ctx, outputs } = actionContext(input, {
      userRef: 'user:default/bob',
    });
    const error = await action.handler(ctx as any).catch(e => e);
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(error.message).toMatch(
      /user:default\/bob may not run tensorflow:identity:provision for group:default\/ml-platform/,
    );
    expect(branchExists(repo, 'model/fraud-detector')).toBe(false);
    expect(auditor.createEvent).not.toHaveBeenCalled();
    expect(outputs).toEqual({});
  });

  it('refuses scopes the policy does not allow', async () => {
    const { action } = setup();
    const { ctx } = actionContext(
      { ...input, grants: { 'group:default/risk': ['admin'] } },
      { userRef: 'user:default/alice' },
    );
    await expect(action.handler(ctx as any)).rejects.toThrow(
      /does not allow granting "admin" to group:default\/risk/,
    );
  });

  it('fails on lint findings and proposes nothing', async () => {
    const proposed: GitOpsChange[] = [];
    const gitops: GitOpsTarget = {
      kind: 'local',
      propose: async c => {
        proposed.push(c);
        return {
          target: 'local',
          branch: c.branch,
          commit: 'x',
          url: 'x',
          changed: true,
        };
      },
    };
    const bad: AccessPolicy = {
      ...DEFAULT_ACCESS_POLICY,
      scopes: {
        ...DEFAULT_ACCESS_POLICY.scopes,
        // Built in code, bypassing config validation: lint is the last line.
        admin: {
          ...DEFAULT_ACCESS_POLICY.scopes.admin,
          kubernetes: {
            rules: [
              {
                apiGroups: [''],
                resources: ['serviceaccounts/token'],
                verbs: ['create'],
              },
            ],
          },
        },
      },
    };
    const { action, auditor } = setup({ access: bad, gitops });
    const { ctx } = actionContext(input, { userRef: 'user:default/alice' });
    await expect(action.handler(ctx as any)).rejects.toThrow(
      /Identity policy lint failed[\s\S]*\[no-token-minting\] Role ml-fraud-detector\/tensorflow-admin/,
    );
    expect(proposed).toEqual([]);
    expect(auditor.createEvent).not.toHaveBeenCalled();
  });

  it.each(examples().map(e => [e.description, e] as const))(
    'example runs in dry run: %s',
    async (_d, example) => {
      // Embedded defaults (no cloud): the examples need no cloud account.
      const { action } = setup({ identity: parseIdentityConfig({}) });
      const step = yaml.parse(example.example).steps[0];
      const { ctx, outputs } = actionContext(step.input, {
        isDryRun: true,
        userRef: 'user:default/alice',
      });
      await action.handler(ctx as any);
      expect(outputs.serviceAccount).toMatchObject({
        name: 'fraud-detector-serving',
      });
    },
  );
});
