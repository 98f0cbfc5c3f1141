import { Navigate } from 'react-router-dom';
import { createApp } from '@backstage/frontend-defaults';
import {
  createFrontendModule,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import scaffolderPlugin from '@backstage/plugin-scaffolder/alpha';

/** The app has no home page of its own: the root opens the templates (the wizard). */
const homeRedirect = createFrontendModule({
  pluginId: 'app',
  extensions: [
    PageBlueprint.make({
      name: 'home-redirect',
      params: {
        path: '/',
        loader: async () => <Navigate to="/create" replace />,
      },
    }),
  ],
});

/** The dev frontend: catalog and scaffolder on the new frontend system, guest sign-in from the defaults. */
export default createApp({
  features: [catalogPlugin, scaffolderPlugin, homeRedirect],
});
