import { ensureAppBuilt } from '../../../dev/appBuild';
import { closeBrowser, openSession, type BrowserSession } from './browser';
import { startDevBackend, type DevBackend } from './devBackend';
import * as wizard from './wizard';

/**
 * One browser suite's fixtures: the built dev frontend, a dev backend as `npm start` runs it, and
 * Chromium sessions signed in as the guest; everything is stopped after the suite.
 */
export function useWizardUi(options: { shotAfterSignIn?: boolean } = {}) {
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
