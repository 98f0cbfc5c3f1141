import fs from 'node:fs';
import path from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
} from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const artifactsDir = path.resolve(__dirname, '../artifacts');

/**
 * Why the browser tests can't run here, or undefined when they can. Outside CI a missing
 * Chromium skips them (with this reason printed); in CI it fails them, so a runner without
 * Chromium can't pass by skipping.
 */
export function browserUnavailable(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI)
    throw new Error(`browser tests must run in CI: ${reason}`);
  return reason;
}

export interface BrowserSession {
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  /** Saves a screenshot (the full page, or with `fullPage: false` the viewport) as artifacts/<run>/<nn>-<name>.png and returns its path. */
  shot(name: string, options?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

let browser: Browser | undefined;

export async function launch(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  return browser;
}

export async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = undefined;
}

export async function openSession(run: string): Promise<BrowserSession> {
  const context: BrowserContext = await (
    await launch()
  ).newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const errors: string[] = [];
  page.on('console', msg => {
    if (msg.type() === 'error')
      errors.push(`console.error on ${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', error =>
    errors.push(`uncaught on ${page.url()}: ${error.message}`),
  );
  const dir = path.join(artifactsDir, run);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  return {
    page,
    errors,
    async shot(name, { fullPage = true } = {}) {
      const file = path.join(
        dir,
        `${String(++n).padStart(2, '0')}-${name}.png`,
      );
      await page.screenshot({ path: file, fullPage });
      return file;
    },
    close: () => context.close(),
  };
}
