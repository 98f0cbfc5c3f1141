/**
 * Every selector the browser tests use, in one place. Fields are found by the label a person
 * reads (the template's `title`), never by DOM structure or ids, so reordering fields or pages
 * in the templates does not break the tests; a renamed label changes one argument at the call site.
 */
import type { Locator, Page } from 'playwright-core';

const exact = (label: string) =>
  new RegExp(
    `^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\*?\\s*$`,
  );

/** Signs in with the guest provider (the dev backend maps it to the configured user). */
export async function signInAsGuest(
  page: Page,
  baseUrl: string,
): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole('button', { name: 'Enter' }).click();
  await page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link', { name: 'Create' })
    .waitFor();
}

/** Opens /create through the sidebar and chooses a template by its title. */
export async function chooseTemplate(page: Page, title: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link', { name: 'Create' })
    .click();
  const card = page
    .locator('div')
    .filter({ has: page.getByRole('heading', { name: title, exact: true }) })
    .filter({ has: page.getByRole('button', { name: 'Choose' }) })
    .last();
  await card.getByRole('button', { name: 'Choose' }).click();
  await page.getByRole('heading', { name: title, level: 2 }).waitFor();
}

/** The form of the current page (the review page has none). */
const form = (page: Page): Locator => page.locator('form').last();

export async function fillText(
  page: Page,
  label: string,
  value: string | number,
): Promise<void> {
  const field = form(page)
    .getByRole('textbox', { name: exact(label) })
    .or(form(page).getByRole('spinbutton', { name: exact(label) }));
  await field.first().fill(String(value));
}

/**
 * Picks an entity in an OwnerPicker / EntityPicker (an autocomplete): types `search`, then
 * clicks the option whose text matches `option`.
 */
export async function pickEntity(
  page: Page,
  label: string,
  search: string,
  option: RegExp | string,
  scope: Locator = form(page),
): Promise<void> {
  const box = scope.getByRole('textbox', { name: exact(label) });
  await box.click();
  await box.fill(search);
  await page.getByRole('option', { name: option }).first().click();
  await page.getByRole('listbox').waitFor({ state: 'detached' });
}

/**
 * The options an entity picker (autocomplete) offers for `search` (empty: all), without choosing one;
 * `whileOpen` runs while the list is shown (e.g. a screenshot).
 */
export async function entityOptions(
  page: Page,
  label: string,
  search = '',
  scope: Locator = form(page),
  whileOpen?: () => Promise<unknown>,
): Promise<string[]> {
  const box = scope.getByRole('textbox', { name: exact(label) });
  await box.click();
  await box.fill(search);
  await page.getByRole('listbox').waitFor();
  const texts = (await page.getByRole('option').allInnerTexts()).map(t =>
    t.trim(),
  );
  await whileOpen?.();
  await box.press('Escape');
  return texts;
}

/** Types free text into an entity picker and leaves the field; returns what the field shows afterwards. */
export async function typeFreeText(
  page: Page,
  label: string,
  text: string,
  scope: Locator = form(page),
): Promise<string> {
  const box = scope.getByRole('textbox', { name: exact(label) });
  await box.click();
  await box.fill(text);
  await box.press('Tab');
  return box.inputValue();
}

/** Chooses an option of a select (enum field) by the text shown for it (its enumName). */
export async function selectOption(
  page: Page,
  label: string,
  option: RegExp | string,
): Promise<void> {
  await form(page)
    .getByRole('button', { name: new RegExp(`^${label}\\b`) })
    .first()
    .click();
  await page.getByRole('option', { name: option }).first().click();
  await page.getByRole('listbox').waitFor({ state: 'detached' });
}

/** Adds a row to an array field and returns it (the last group of fields under the array's title). */
export async function addArrayItem(page: Page): Promise<Locator> {
  await form(page).getByRole('button', { name: /^add/i }).first().click();
  return form(page);
}

export async function check(
  page: Page,
  label: string,
  scope: Locator = form(page),
): Promise<void> {
  await scope
    .getByRole('checkbox', { name: exact(label) })
    .last()
    .check();
}

export async function next(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Next' }).click();
}

export async function back(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Back' }).click();
}

/** The options a select (enum field) shows, by their text, without choosing one. */
export async function selectOptions(
  page: Page,
  label: string,
): Promise<string[]> {
  await form(page)
    .getByRole('button', { name: new RegExp(`^${label}\\b`) })
    .first()
    .click();
  const texts = (await page.getByRole('option').allInnerTexts()).map(t =>
    t.trim(),
  );
  await page.keyboard.press('Escape');
  await page.getByRole('listbox').waitFor({ state: 'detached' });
  return texts;
}

/** Moves on until the review page (the stepper's last step) shows, returning the review's text. */
export async function toReview(page: Page): Promise<string> {
  await page.getByRole('button', { name: /^(Review|Next)$/ }).click();
  await page.getByRole('button', { name: 'Create' }).waitFor();
  return (
    await form(page).or(page.getByRole('article')).last().innerText()
  ).replace(/\s+/g, ' ');
}

/** The review page's rows as the person reads them: label -> shown value (nested values as their text). */
export async function reviewRows(page: Page): Promise<Record<string, string>> {
  const rows = page.locator('table').first().locator(':scope > tbody > tr');
  const entries: Array<[string, string]> = [];
  for (const row of await rows.all()) {
    const cells = (
      await row.locator(':scope > td, :scope > th').allInnerTexts()
    ).map(t => t.replace(/\s+/g, ' ').trim());
    entries.push([cells[0], cells.slice(1).join(' ')]);
  }
  return Object.fromEntries(entries);
}

/** Clicks Create and returns the task id from the task page's URL. */
export async function create(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/create\/tasks\/[^/]+$/);
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
}

/** Errors the form shows for the current page (rjsf's error list and field helper texts). */
export async function formErrors(page: Page): Promise<string> {
  return (
    await page.locator('.Mui-error, [role="alert"]').allInnerTexts()
  ).join('\n');
}

/**
 * Waits for the task page to show the finished task: its output links (`outputLink`, e.g.
 * "Serving endpoint") on success, or an enabled Start Over after a failure. Returns the page's text.
 */
export async function waitForTaskPage(
  page: Page,
  outputLink: RegExp,
  timeoutMs = 150000,
): Promise<string> {
  await page
    .getByRole('button', { name: /start over/i, disabled: false })
    .or(page.getByRole('link', { name: outputLink }))
    .first()
    .waitFor({ timeout: timeoutMs });
  await page.waitForTimeout(500);
  return (await page.locator('main, article').first().innerText()).replace(
    /\s+/g,
    ' ',
  );
}

/** Waits for a task page to finish, successful or not; `failed` when the page shows a failed step. */
export async function waitForTaskOutcome(
  page: Page,
  timeoutMs = 150000,
): Promise<{ failed: boolean; text: string }> {
  const text = await waitForTaskPage(
    page,
    /Serving endpoint|Model project/,
    timeoutMs,
  );
  const failed = await page
    .getByText(/failed/i)
    .first()
    .isVisible()
    .catch(() => false);
  return { failed, text };
}
