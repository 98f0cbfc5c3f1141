import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import yaml from 'yaml';
import { LocalClaimStore } from '../../../actions/gitops/claims';
import { LocalGitOpsTarget } from '../../../actions/gitops/local';
import { people } from './authorize';
import {
  initialProvisioningRecord,
  PROVISIONING_RECORD_FILE,
} from '../../../actions/access/binding';
import {
  DEFAULT_ACCESS_POLICY,
  type AccessPolicy,
} from '../../../actions/access/config';
import type { ProjectAccess } from '../../../actions/access/project';

/** The dev backend's sample organisation (jdoe in ml-platform and risk, asmith in data-science, bwong an admin). */
export const sampleOrg: Entity[] = yaml
  .parseAllDocuments(
    fs.readFileSync(
      path.resolve(__dirname, '../../../dev/catalog/org.yaml'),
      'utf8',
    ),
  )
  .map(d => d.toJS() as Entity)
  .filter(e => e.kind === 'User' || e.kind === 'Group');

/**
 * A ProjectAccess over real parts: Backstage's catalog test double holding the sample org, and
 * project claims in a real git repository (the same LocalClaimStore the dev backend uses).
 */
export function testProjectAccess(
  options: {
    entities?: Entity[];
    policy?: AccessPolicy;
    gitopsPath?: string;
    auditor?: AuditorService;
  } = {},
): ProjectAccess & { gitopsPath: string } {
  const gitopsPath =
    options.gitopsPath ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tf-claims-'));
  return {
    catalog: catalogServiceMock({
      entities: [...sampleOrg, ...people, ...(options.entities ?? [])],
    }),
    policy: options.policy ?? {
      ...DEFAULT_ACCESS_POLICY,
      rules: {
        ...DEFAULT_ACCESS_POLICY.rules,
        adminGroups: ['group:default/platform-admins'],
      },
    },
    claims: new LocalClaimStore(new LocalGitOpsTarget({ path: gitopsPath })),
    auditor: options.auditor ?? mockServices.auditor.mock(),
    gitopsPath,
  };
}

/**
 * Writes the provisioning record that binds a folder about to be published to fraud-detector of
 * ml-platform, as tensorflow:repository:publish leaves it.
 */
export function writeProvisioningRecord(
  sourceDir: string,
  repoUrl = 'local?repo=fraud-detector',
  owner = 'group:default/ml-platform',
): void {
  fs.mkdirSync(path.join(sourceDir, path.dirname(PROVISIONING_RECORD_FILE)), {
    recursive: true,
  });
  fs.writeFileSync(
    path.join(sourceDir, PROVISIONING_RECORD_FILE),
    initialProvisioningRecord({
      project: {
        name: 'fraud-detector',
        owner,
        namespace: 'ml-fraud-detector',
      },
      initiator: 'user:default/jdoe',
      taskId: 'task-1234',
      repoUrl,
    }),
  );
}
