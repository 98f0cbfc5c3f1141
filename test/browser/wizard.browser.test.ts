import { main as cli } from '../../cli/createModel';
import { waitFor } from '../support/backend';
import { browserUnavailable, type BrowserSession } from './support/browser';
import { useWizardUi } from './support/suite';
import * as wizard from './support/wizard';

/** The scope checkboxes as the form labels them (ui:enumNames in the templates). */
const SCOPE_LABELS: Record<string, string> = {
  predict: 'Call the model (predict)',
  'read-metadata': 'Read endpoint status and metadata',
};

/**
 * The wizard as a person uses it: the dev backend exactly as `npm start` runs it (serving the
 * built dev frontend), Debian's Chromium driven by playwright-core. Screenshots of every page go
 * to test/browser/artifacts/<run>/; any console error fails the run.
 */
const unavailable = browserUnavailable();
if (unavailable) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED browser tests: ${unavailable}`);
}
const describeBrowser = unavailable ? describe.skip : describe;

jest.setTimeout(240000);

interface ModelAnswers {
  name: string;
  description: string;
  owner: { search: string; option: RegExp };
  system?: { search: string; option: RegExp };
  lifecycle?: string;
  runs: number;
  sizing: { size: RegExp } | { replicas: number; gpus: number };
  grant?: { search: string; option: RegExp; scope: string };
}

describeBrowser('the wizard in a real Backstage UI (Chromium)', () => {
  // README screenshots: the wizard, the task page and the entity page of the preset run
  const ui = useWizardUi({
    shotAfterSignIn: true,
    docImages: [
      { run: 'create-model-preset', shot: 'serving', image: 'wizard.png' },
      { run: 'create-model-preset', shot: 'task-page', image: 'task-page.png' },
      {
        run: 'create-model-preset',
        shot: 'entity-page',
        image: 'entity-page.png',
      },
    ],
  });
  const session = (run: string) => ui.session(run);

  const expectNoConsoleErrors = (s: BrowserSession) =>
    expect(s.errors).toEqual([]);

  async function fillCreateModel(
    s: BrowserSession,
    a: ModelAnswers,
  ): Promise<string> {
    const { page } = s;
    await wizard.chooseTemplate(page, 'Create new model');
    await wizard.fillText(page, 'Name', a.name);
    await wizard.fillText(page, 'Description', a.description);
    await wizard.pickEntity(page, 'Owner', a.owner.search, a.owner.option);
    if (a.system)
      await wizard.pickEntity(page, 'System', a.system.search, a.system.option);
    if (a.lifecycle) await wizard.selectOption(page, 'Lifecycle', a.lifecycle);
    await s.shot('basics');
    await wizard.next(page);

    await wizard.fillText(page, 'Timed inference runs', a.runs);
    await s.shot('model-source');
    await wizard.next(page);

    if ('size' in a.sizing) {
      await wizard.selectOption(page, 'How to size the endpoint', /preset/i);
      await wizard.selectOption(page, 'Size', a.sizing.size);
    } else {
      await wizard.selectOption(
        page,
        'How to size the endpoint',
        /replicas and gpus/i,
      );
      await wizard.fillText(page, 'Replicas', a.sizing.replicas);
      await wizard.fillText(page, 'GPUs per replica', a.sizing.gpus);
    }
    await s.shot('serving');
    await wizard.next(page);

    if (a.grant) {
      const row = await wizard.addArrayItem(page);
      await wizard.pickEntity(
        page,
        'Group',
        a.grant.search,
        a.grant.option,
        row,
      );
      await wizard.check(page, SCOPE_LABELS[a.grant.scope], row);
    }
    await s.shot('access');
    await wizard.next(page);

    await wizard.selectOption(page, 'Publish to', /local/i);
    await s.shot('repository');
    const review = await wizard.toReview(page);
    await s.shot('review');
    return review;
  }

  async function taskParameters(
    taskId: string,
  ): Promise<Record<string, unknown>> {
    const task = await ui.backend.api(
      `/api/scaffolder/v2/tasks/${encodeURIComponent(taskId)}`,
    );
    expect(task.status).toBe(200);
    return task.body.spec.parameters;
  }

  async function finishTask(
    s: BrowserSession,
    shot = 'task-page',
  ): Promise<{ taskId: string; text: string; failed: boolean }> {
    const taskId = await wizard.create(s.page);
    const text = await wizard.waitForTaskPage(s.page, /Serving endpoint/);
    await s.shot(shot);
    const task = await ui.backend.api(
      `/api/scaffolder/v2/tasks/${encodeURIComponent(taskId)}`,
    );
    return { taskId, text, failed: task.body.status !== 'completed' };
  }

  const presetRun: ModelAnswers = {
    name: 'ui-fraud',
    description: 'Scores card transactions, made in the browser',
    owner: { search: 'ML', option: /ml-platform|ML Platform/ },
    system: { search: 'pay', option: /payments/ },
    lifecycle: 'production',
    runs: 3,
    sizing: { size: /^Medium/ },
    grant: {
      search: 'Data',
      option: /data-science|Data Science/,
      scope: 'predict',
    },
  };

  it('Create new model with a preset size and a grant: review, create, task page, entity page; the CLI submits the same parameters', async () => {
    const s = await session('create-model-preset');
    const review = await fillCreateModel(s, presetRun);
    expect(review).toContain('ui-fraud');
    expect(review).toMatch(/medium/i);
    const { taskId, failed, text } = await finishTask(s);
    expect({ failed, text: failed ? text : '' }).toEqual({
      failed: false,
      text: '',
    });

    const params = await taskParameters(taskId);
    expect(params).toMatchObject({
      name: 'ui-fraud',
      owner: 'group:default/ml-platform',
      system: 'system:default/payments',
      lifecycle: 'production',
      sizing: 'preset',
      size: 'medium',
      publishTo: 'local',
      grants: [{ group: 'group:default/data-science', scopes: ['predict'] }],
    });

    // The task page links to the new entities; follow the endpoint's.
    await s.page
      .getByRole('link', { name: /Serving endpoint/ })
      .first()
      .click();
    await s.page.waitForURL(/\/catalog\/default\/component\/ui-fraud-endpoint/);
    await s.page.getByText('ml-platform', { exact: false }).first().waitFor();
    await s.page.getByText('REST endpoint (in-cluster)').first().waitFor();
    await s.shot('entity-page');
    const about = (
      await s.page.locator('main, article').first().innerText()
    ).replace(/\s+/g, ' ');
    expect(about).toMatch(/ml-platform/);
    expect(about).toMatch(/payments/);
    const ownerLink = s.page.getByRole('link', { name: /ml-platform/ }).first();
    expect(await ownerLink.getAttribute('href')).toBe(
      '/catalog/default/group/ml-platform',
    );
    const endpoint = await waitFor(
      'the endpoint entity with its relations',
      async () => {
        const r = await ui.backend.api(
          '/api/catalog/entities/by-name/component/default/ui-fraud-endpoint',
        );
        return r.status === 200 && r.body.relations?.length
          ? r.body
          : undefined;
      },
    );
    const relations = endpoint.relations.map(
      (r: { type: string; targetRef: string }) => `${r.type} ${r.targetRef}`,
    );
    expect(relations).toEqual(
      expect.arrayContaining([
        'ownedBy group:default/ml-platform',
        'partOf system:default/payments',
      ]),
    );
    // the entity's links open real pages in this app (same origin as the backend)
    const annotations = endpoint.metadata.annotations ?? {};
    for (const url of Object.values(annotations).filter(
      (v): v is string =>
        typeof v === 'string' && v.startsWith('http://localhost'),
    )) {
      expect(url.startsWith(ui.backend.baseUrl)).toBe(true);
    }
    expectNoConsoleErrors(s);

    // CLI parity: the same answers from the terminal give the same task parameters.
    const out: string[] = [];
    const err: string[] = [];
    const code = await cli(
      [
        '--name',
        'ui-fraud-cli',
        '--owner',
        'group:default/ml-platform',
        '--description',
        presetRun.description,
        '--system',
        'system:default/payments',
        '--lifecycle',
        'production',
        '--set',
        'runs=3',
        '--set',
        'size=medium',
        '--set',
        'grants=[{"group":"group:default/data-science","scopes":["predict"]}]',
        '--backstage-url',
        ui.backend.baseUrl,
        '--quiet',
      ],
      { write: (x: string) => out.push(x) } as any,
      { write: (x: string) => err.push(x) } as any,
    );
    expect({ code, err: err.join('') }).toEqual({ code: 0, err: '' });
    const printed = out.join('');
    expect(printed).toMatch(
      /Filled in[^\n]*\n(.*\n)*\s+sizing = "preset" \(template default\)/,
    );
    expect(printed).toContain(
      `${ui.backend.baseUrl}/catalog/default/component/ui-fraud-cli-endpoint`,
    );
    const cliTaskId = /Task (\S+) started/.exec(printed)![1];
    const cliParams = await taskParameters(cliTaskId);
    expect({ ...cliParams, name: undefined }).toEqual({
      ...params,
      name: undefined,
    });
  });

  it('Create new model with custom replicas and GPUs', async () => {
    const s = await session('create-model-custom');
    const review = await fillCreateModel(s, {
      ...presetRun,
      name: 'ui-custom',
      system: undefined,
      lifecycle: undefined,
      sizing: { replicas: 2, gpus: 0 },
      grant: { search: 'Ri', option: /risk|Risk/, scope: 'read-metadata' },
    });
    expect(review).toContain('ui-custom');
    const { taskId, failed, text } = await finishTask(s);
    expect({ failed, text: failed ? text : '' }).toEqual({
      failed: false,
      text: '',
    });
    expect(await taskParameters(taskId)).toMatchObject({
      sizing: 'custom',
      replicas: 2,
      gpus: 0,
      lifecycle: 'experimental',
    });
    expectNoConsoleErrors(s);
  });

  it('Provision a model serving endpoint, picking the model with its EntityPicker', async () => {
    await waitFor('the ui-fraud model in the catalog', async () =>
      (
        await ui.backend.api(
          '/api/catalog/entities/by-name/resource/default/ui-fraud-model',
        )
      ).status === 200
        ? true
        : undefined,
    );
    const s = await session('provision-endpoint');
    const { page } = s;
    await wizard.chooseTemplate(page, 'Provision a model serving endpoint');
    await wizard.pickEntity(page, 'Model', 'ui-fraud', /^ui-fraud[- ]model$/i);
    await wizard.selectOption(page, 'Environment', 'staging');
    await s.shot('model');
    await wizard.next(page);
    const row = await wizard.addArrayItem(page);
    await wizard.pickEntity(page, 'Group', 'Ri', /risk|Risk/, row);
    await wizard.check(page, SCOPE_LABELS.predict, row);
    await s.shot('access');
    await wizard.next(page);
    await wizard.selectOption(page, 'How to size the endpoint', /preset/i);
    await s.shot('size');
    const review = await wizard.toReview(page);
    await s.shot('review');
    expect(review).toMatch(/ui-fraud-model/);
    const { taskId, failed, text } = await finishTask(s);
    expect({ failed, text: failed ? text : '' }).toEqual({
      failed: false,
      text: '',
    });
    expect(await taskParameters(taskId)).toMatchObject({
      model: 'resource:default/ui-fraud-model',
      environment: 'staging',
      sizing: 'preset',
      size: 'small',
      grants: [{ group: 'group:default/risk', scopes: ['predict'] }],
    });
    expectNoConsoleErrors(s);
  });

  it('refuses an owner the user is not in, and the task page says how to fix it', async () => {
    // the Owner picker offers only the user's own groups (wizardUx.browser.test.ts), so this comes through the API
    const created = await ui.backend.api('/api/scaffolder/v2/tasks', {
      method: 'POST',
      json: {
        templateRef: 'template:default/create-model',
        values: {
          name: 'ui-refused',
          description: presetRun.description,
          owner: 'group:default/data-science',
        },
      },
    });
    expect(created.status).toBe(201);
    const s = await session('refused-owner');
    await s.page.goto(
      `${ui.backend.baseUrl}/create/tasks/${encodeURIComponent(created.body.id)}`,
    );
    const { failed, text } = await wizard.waitForTaskOutcome(s.page);
    await s.shot('task-page-refused');
    expect(failed).toBe(true);
    expect(text).toMatch(/not a member of group:default\/data-science/);
    expect(text).toMatch(
      /Ask a member of group:default\/data-science to add you/,
    );
    expectNoConsoleErrors(s);
  });
});
