/**
 * Fault injection on the real backend: a catalog client that can be switched off, and
 * template variants of create-model registered at test time.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { CatalogClient } from '@backstage/catalog-client';
import {
  catalogServiceRef,
  type CatalogService,
} from '@backstage/plugin-catalog-node';
import yaml from 'yaml';
import { api, repoRoot, waitFor } from './backend';

export interface CatalogFaults {
  /** Catalog methods that throw while listed, e.g. `addLocation`. */
  failing: Set<string>;
  calls: string[];
}

/**
 * catalogServiceRef as plugin-catalog-node's default factory builds it (a CatalogClient over
 * discovery, each call with a plugin request token on behalf of the caller's credentials),
 * with a switch that makes chosen methods fail as an unreachable catalog would.
 */
export function switchableCatalogFactory(faults: CatalogFaults) {
  return createServiceFactory({
    service: catalogServiceRef,
    deps: { auth: coreServices.auth, discovery: coreServices.discovery },
    async factory({ auth, discovery }) {
      const client = new CatalogClient({ discoveryApi: discovery });
      return new Proxy({} as CatalogService, {
        get(_target, prop: string) {
          const method = (client as any)[prop];
          if (typeof method !== 'function') return undefined;
          return async (...args: any[]) => {
            faults.calls.push(prop);
            if (faults.failing.has(prop)) {
              throw new Error(
                `catalog unavailable: ${prop} failed (connect ECONNREFUSED, injected fault)`,
              );
            }
            const last = args[args.length - 1];
            if (last && typeof last === 'object' && 'credentials' in last) {
              args[args.length - 1] = await auth.getPluginRequestToken({
                onBehalfOf: last.credentials,
                targetPluginId: 'catalog',
              });
            }
            return method.apply(client, args);
          };
        },
      });
    },
  });
}

/**
 * Writes a variant of templates/create-model/template.yaml under `dir`, registers it as a
 * file location and waits until the catalog serves it. Returns its template ref.
 */
export async function registerTemplateVariant(
  baseUrl: string,
  dir: string,
  name: string,
  mutate: (template: any) => void,
): Promise<string> {
  const template = yaml.parse(
    fs.readFileSync(
      path.join(repoRoot, 'templates/create-model/template.yaml'),
      'utf8',
    ),
  );
  template.metadata.name = name;
  mutate(template);
  const file = path.join(dir, `${name}.yaml`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, yaml.stringify(template));
  const r = await api(baseUrl, '/api/catalog/locations', {
    method: 'POST',
    json: { type: 'file', target: file },
  });
  if (r.status !== 201)
    throw new Error(
      `template ${name} not registered: ${r.status} ${JSON.stringify(r.body)}`,
    );
  await waitFor(`template ${name} in the catalog`, async () => {
    const t = await api(
      baseUrl,
      `/api/catalog/entities/by-name/template/default/${name}`,
    );
    return t.status === 200 ? true : undefined;
  });
  return `template:default/${name}`;
}
