import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import {
  coreServices,
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  isPermission,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  actionExecutePermission,
  templateParameterReadPermission,
  templateStepReadPermission,
} from '@backstage/plugin-scaffolder-common/alpha';
import {
  createScaffolderActionConditionalDecision,
  createScaffolderTemplateConditionalDecision,
  scaffolderActionConditions,
  scaffolderTemplateConditions,
} from '@backstage/plugin-scaffolder-backend/alpha';
import { git } from '../../actions/shared/git';
import {
  api,
  repoRoot,
  runTask,
  startBackend,
  waitForCatalog,
  waitForTask,
  type RunningBackend,
} from '../support/backend';

/**
 * The `backstage:permissions` tags in our templates, enforced by a real permission policy through the real
 * permission backend and the real scaffolder. The policy is the one docs/security.md shows: only members of
 * ml-platform or platform-admins may grant other groups access or administer GitHub repositories.
 */
const MAY_GRANT = [
  'group:default/ml-platform',
  'group:default/platform-admins',
];

class WizardPolicy implements PermissionPolicy {
  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const refs = user?.info.ownershipEntityRefs ?? [];
    if (refs.some(r => MAY_GRANT.includes(r)))
      return { result: AuthorizeResult.ALLOW };
    if (
      isPermission(request.permission, templateParameterReadPermission) ||
      isPermission(request.permission, templateStepReadPermission)
    ) {
      // hide the Access page and the GitHub administration steps
      return createScaffolderTemplateConditionalDecision(request.permission, {
        not: {
          anyOf: [
            scaffolderTemplateConditions.hasTag({
              tag: 'tensorflow-access-grants',
            }),
            scaffolderTemplateConditions.hasTag({
              tag: 'tensorflow-github-admin',
            }),
          ],
        },
      });
    }
    if (isPermission(request.permission, actionExecutePermission)) {
      // hiding the page does not stop grants posted through the API: refuse any action given one
      // (the templates always pass grants as a list, so a grant is grants.0.group)
      return createScaffolderActionConditionalDecision(request.permission, {
        not: scaffolderActionConditions.hasStringProperty({
          key: 'grants.0.group',
        }),
      });
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

const wizardPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'tensorflow-wizard-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint },
      async init({ policy }) {
        policy.setPolicy(new WizardPolicy());
      },
    });
  },
});

/** Group memberships as the sign-in resolver would put them in the token (from the sample organisation). */
const memberships = new Map<string, string[]>(
  yaml
    .parseAllDocuments(
      fs.readFileSync(path.join(repoRoot, 'dev/catalog/org.yaml'), 'utf8'),
    )
    .map(d => d.toJS())
    .filter((e: any) => e?.kind === 'User')
    .map((e: any) => [
      `user:default/${e.metadata.name}`,
      (e.spec.memberOf ?? []).map((g: string) => `group:default/${g}`),
    ]),
);
const userInfoFromOrg = createServiceFactory({
  service: coreServices.userInfo,
  deps: {},
  factory: () => ({
    async getUserInfo(credentials: any) {
      const userEntityRef = credentials.principal.userEntityRef as string;
      return {
        userEntityRef,
        ownershipEntityRefs: [
          userEntityRef,
          ...(memberships.get(userEntityRef) ?? []),
        ],
      };
    },
  }),
});

describe('template permissions through the real permission backend', () => {
  let backend: RunningBackend;
  const asmith = {
    authorization: mockCredentials.user.header('user:default/asmith'),
  };
  const jdoe = {
    authorization: mockCredentials.user.header('user:default/jdoe'),
  };

  beforeAll(async () => {
    backend = await startBackend({
      config: { permission: { enabled: true } },
      onBehalfOfActors: true,
      features: [
        import('@backstage/plugin-permission-backend'),
        wizardPolicy,
        userInfoFromOrg,
      ],
    });
    await waitForCatalog(backend.baseUrl);
  });

  afterAll(async () => {
    await backend?.stop();
  });

  const pageTitles = async (
    headers: Record<string, string>,
    template: string,
  ) => {
    const r = await api(
      backend.baseUrl,
      `/api/scaffolder/v2/templates/default/template/${template}/parameter-schema`,
      { headers },
    );
    expect(r.status).toBe(200);
    return (r.body.steps as Array<{ title: string }>).map(s => s.title);
  };

  it('shows the Access page only to a user whose policy allows the tag', async () => {
    expect(await pageTitles(jdoe, 'create-model')).toContain('Access');
    expect(await pageTitles(asmith, 'create-model')).toEqual([
      'Model basics',
      'Model source and validation',
      'Serving',
      'Repository',
    ]);
    expect(await pageTitles(asmith, 'provision-endpoint')).toEqual([
      'Model',
      'Size',
    ]);
  });

  it('runs a task without the tagged steps for that user, and refuses grants posted through the API', async () => {
    const values = {
      name: 'asmith-model',
      description: 'Alex without grant rights',
      owner: 'group:default/data-science',
    };
    const created = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
      method: 'POST',
      headers: asmith,
      json: { templateRef: 'template:default/create-model', values },
    });
    expect(created.status).toBe(201);
    const task = await waitForTask(backend.baseUrl, created.body.id, 90000);
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
    const spec = (
      await api(backend.baseUrl, `/api/scaffolder/v2/tasks/${task.id}`, {
        headers: asmith,
      })
    ).body.spec;
    const ids = spec.steps.map((s: any) => s.id);
    expect(ids).toEqual(
      expect.arrayContaining(['create', 'identity', 'serving', 'register']),
    );
    expect(ids).not.toContain('github');
    expect(ids).not.toContain('github-oidc');

    // the Access page was hidden, but a list of grants sent anyway stops at the first action that gets it
    const smuggled = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
      method: 'POST',
      headers: asmith,
      json: {
        templateRef: 'template:default/create-model',
        values: {
          ...values,
          name: 'asmith-grants',
          grants: [{ group: 'group:default/risk', scopes: ['predict'] }],
        },
      },
    });
    const refused = await waitForTask(backend.baseUrl, smuggled.body.id, 90000);
    expect(refused.status).toBe('failed');
    expect(refused.error.message).toMatch(
      /Unauthorized action: tensorflow:identity:provision/,
    );
    // and the object form is not a way around it: the templates turn grants into a list that fails the action input schema
    const objectForm = await api(backend.baseUrl, '/api/scaffolder/v2/tasks', {
      method: 'POST',
      headers: asmith,
      json: {
        templateRef: 'template:default/create-model',
        values: {
          ...values,
          name: 'asmith-object',
          grants: { 'group:default/risk': ['predict'] },
        },
      },
    });
    const refusedToo = await waitForTask(
      backend.baseUrl,
      objectForm.body.id,
      90000,
    );
    expect(refusedToo.status).toBe('failed');
    expect(refusedToo.error.message).toMatch(
      /Invalid input passed to action tensorflow:identity:provision, instance.grants is not any of/,
    );
    // no GitOps change was proposed for either
    const branches = (
      await git(['branch', '--list'], {
        cwd: path.join(backend.dataDir, 'gitops'),
      })
    ).stdout;
    expect(branches).not.toMatch(/asmith-(grants|object)/);
  });

  it('lets a user the policy allows grant access', async () => {
    const task = await runTask(
      backend.baseUrl,
      'template:default/create-model',
      {
        name: 'jdoe-model',
        description: 'Jane may grant',
        owner: 'group:default/ml-platform',
        grants: [{ group: 'group:default/risk', scopes: ['predict'] }],
      },
    );
    expect({ status: task.status, error: task.error }).toEqual({
      status: 'completed',
      error: undefined,
    });
  });
});
