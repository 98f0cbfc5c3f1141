import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import scaffolderPlugin from '@backstage/plugin-scaffolder/alpha';

/** The dev frontend: catalog and scaffolder on the new frontend system, guest sign-in from the defaults. */
export default createApp({
  features: [catalogPlugin, scaffolderPlugin],
});
