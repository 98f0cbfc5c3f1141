import { browserUnavailable, type BrowserSession } from './support/browser';
import { useWizardUi } from './support/suite';
import * as wizard from './support/wizard';

/**
 * Issue 19 in the browser: what a person chooses is what runs (branch switches), pickers offer only
 * valid choices, enums and errors read as words. Same dev backend and Chromium as wizard.browser.test.ts.
 */
const unavailable = browserUnavailable();
const describeBrowser = unavailable ? describe.skip : describe;

jest.setTimeout(240000);

describeBrowser('wizard UX in a real Backstage UI (Chromium)', () => {
  const ui = useWizardUi();
  const session = (run: string) => ui.session(run);

  // the form logs each deliberately invalid submit as a console error
  const unexpectedErrors = (s: BrowserSession) => s.errors.filter(e => !/Form validation failed/.test(e));

  it('pickers offer only valid choices, enums read as words, a bad name gets one sentence', async () => {
    const s = await session('ux-pickers');
    const { page } = s;
    await wizard.chooseTemplate(page, 'Create new model');

    // Jane Doe is in ml-platform and risk: the owner picker offers exactly those
    const owners = await wizard.entityOptions(page, 'Owner');
    await s.shot('owner-options');
    expect(owners).toHaveLength(2);
    expect(owners.join('|')).toMatch(/ml-platform|ML Platform/);
    expect(owners.join('|')).toMatch(/risk|Risk/i);
    expect(owners.join('|')).not.toMatch(/data-science|Data Science|platform-admins/i);

    expect(await wizard.selectOptions(page, 'Lifecycle')).toEqual(['Experimental', 'Production', 'Deprecated']);

    await wizard.fillText(page, 'Name', 'Bad_Name');
    await wizard.fillText(page, 'Description', 'x');
    await wizard.pickEntity(page, 'Owner', 'ML', /ml-platform|ML Platform/);
    await wizard.next(page);
    await s.shot('bad-name');
    const errors = await wizard.formErrors(page);
    expect(errors).toContain('Use only lowercase letters, digits and "-"');
    expect(errors).not.toContain('^[a-z0-9]');

    await wizard.fillText(page, 'Name', 'ui-pickers');
    await wizard.next(page);
    expect(await wizard.selectOptions(page, 'Validation device')).toEqual([
      'A GPU when available, otherwise the CPU',
      'GPU only',
      'CPU only',
    ]);
    await wizard.next(page);
    expect(await wizard.selectOptions(page, 'Environment')).toEqual(['Development', 'Staging', 'Production']);
    await wizard.next(page);

    // grant groups: no free text, and a row needs at least one scope
    const row = await wizard.addArrayItem(page);
    expect(await wizard.typeFreeText(page, 'Group', 'data-sci', row)).toBe('');
    await wizard.pickEntity(page, 'Group', 'Data', /data-science|Data Science/, row);
    await s.shot('grant-without-scope');
    await wizard.next(page);
    expect(await wizard.formErrors(page)).toMatch(/scope|at least 1|fewer than 1/i);
    expect(await page.getByRole('button', { name: /move up|move down/i }).count()).toBe(0);
    await wizard.check(page, 'Call the model (predict)', row);
    await s.shot('grant-with-scope');
    await wizard.next(page);
    expect(await wizard.selectOptions(page, 'Publish to')).toEqual([
      'A local git repository on the Backstage host',
      'A new GitHub repository',
    ]);
    expect(unexpectedErrors(s)).toEqual([]);
  });

  it('values left in a branch the person switched away from do not run; the review shows the chosen branch', async () => {
    const s = await session('ux-branches');
    const { page } = s;
    await wizard.chooseTemplate(page, 'Create new model');
    await wizard.fillText(page, 'Name', 'ui-switch');
    await wizard.fillText(page, 'Description', 'Tried other branches first');
    await wizard.pickEntity(page, 'Owner', 'ML', /ml-platform|ML Platform/);
    await wizard.next(page);

    // an existing model's URL, then back to the starter
    await wizard.selectOption(page, 'Start from', /existing/i);
    await wizard.fillText(page, 'Model URL', 'https://models.example.com/nowhere/model.json');
    await wizard.selectOption(page, 'Start from', /starter/i);
    await s.shot('back-to-starter');
    await wizard.next(page);

    // 4 replicas with 1 GPU each, then back to the small preset
    await wizard.selectOption(page, 'How to size the endpoint', /replicas and gpus/i);
    await wizard.fillText(page, 'Replicas', 4);
    await wizard.fillText(page, 'GPUs per replica', 1);
    await wizard.selectOption(page, 'How to size the endpoint', /preset/i);
    await wizard.selectOption(page, 'Size', /^Small/);
    await s.shot('back-to-preset');
    await wizard.next(page);
    await wizard.next(page);

    // GitHub, then back to the local repository
    await wizard.selectOption(page, 'Publish to', /GitHub/);
    await wizard.selectOption(page, 'Publish to', /local/i);
    const review = await wizard.toReview(page);
    await s.shot('review');
    expect(review).toContain('Small (1 replica, CPU)');
    expect(review).toContain('The starter architecture');
    expect(review).toContain('A local git repository on the Backstage host');

    const taskId = await wizard.create(page);
    const { failed, text } = await wizard.waitForTaskOutcome(page);
    await s.shot('task-page');
    expect({ failed, text: failed ? text : '' }).toEqual({ failed: false, text: '' });

    // the form submitted the values it kept ...
    const task = await ui.backend.api(`/api/scaffolder/v2/tasks/${encodeURIComponent(taskId)}`);
    expect(task.body.spec.parameters).toMatchObject({ sizing: 'preset', size: 'small', replicas: 4, gpus: 1, modelSource: 'starter', publishTo: 'local' });
    // what ran (1 replica, no GPU, the starter model, no GitHub steps) is compared with the manifests in
    // test/integration/wizard-branches.test.ts, on the same parameters through the real scaffolder
    expect(s.errors).toEqual([]);
  });
});
