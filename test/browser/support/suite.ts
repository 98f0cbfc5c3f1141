import fs from 'node:fs';
import path from 'node:path';
import { ensureAppBuilt } from '../../../dev/appBuild';
import { repoRoot } from '../../support/backend';
import {
  artifactsDir,
  closeBrowser,
  openSession,
  type BrowserSession,
} from './browser';
import { startDevBackend, type DevBackend } from './devBackend';
import * as wizard from './wizard';

/** A screenshot the docs show: artifacts/<run>/<nn>-<shot>.png becomes docs/images/<image>. */
export interface DocImage {
  run: string;
  shot: string;
  image: string;
}

/**
 * Copies the screenshots the README and docs show into docs/images/, when UPDATE_README_SCREENSHOTS is set.
 * A listed screenshot that the run did not take is an error, so a renamed shot cannot leave a stale image.
 */
export function updateDocImages(images: DocImage[]): void {
  if (!process.env.UPDATE_README_SCREENSHOTS) return;
  const target = path.join(repoRoot, 'docs/images');
  fs.mkdirSync(target, { recursive: true });
  for (const { run, shot, image } of images) {
    const dir = path.join(artifactsDir, run);
    const file = fs.existsSync(dir)
      ? fs.readdirSync(dir).find(f => f.endsWith(`-${shot}.png`))
      : undefined;
    if (!file)
      throw new Error(
        `UPDATE_README_SCREENSHOTS: no screenshot "${shot}" in ${dir} for docs/images/${image}`,
      );
    fs.copyFileSync(path.join(dir, file), path.join(target, image));
  }
}

/**
 * One browser suite's fixtures: the built dev frontend, a dev backend as `npm start` runs it, and
 * Chromium sessions signed in as the guest; everything is stopped after the suite, then the
 * suite's `docImages` are copied (see updateDocImages).
 */
export function useWizardUi(
  options: { shotAfterSignIn?: boolean; docImages?: DocImage[] } = {},
) {
  let backend: DevBackend | undefined;
  const sessions: BrowserSession[] = [];

  beforeAll(async () => {
    ensureAppBuilt(line => process.stdout.write(`${line}\n`));
    backend = await startDevBackend();
  }, 600000);

  afterAll(async () => {
    await Promise.all(sessions.map(s => s.close()));
    await closeBrowser();
    await backend?.stop();
    updateDocImages(options.docImages ?? []);
  });

  return {
    get backend(): DevBackend {
      if (!backend) throw new Error('the dev backend has not started');
      return backend;
    },
    async session(run: string): Promise<BrowserSession> {
      const s = await openSession(run);
      sessions.push(s);
      await wizard.signInAsGuest(s.page, this.backend.baseUrl);
      if (options.shotAfterSignIn) await s.shot('signed-in');
      return s;
    },
  };
}
