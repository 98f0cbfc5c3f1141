import type {
  AuditorService,
  BackstageCredentials,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, NotAllowedError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { audited, type AuditSubject } from '../shared/audit';
import { projectEntityNames, type ModelProject } from '../shared/naming';
import { authorizeInitiator, type InitiatorAuthorization } from './authorize';
import type { ClaimStore, ProjectClaim } from './claims';
import type { AccessPolicy } from './config';

/** What module.ts builds once and every project-level action receives. */
export interface ProjectAccess {
  catalog: Pick<CatalogService, 'getEntityByRef' | 'getEntitiesByRefs'>;
  policy: AccessPolicy;
  claims: ClaimStore;
  auditor: AuditorService;
}

/** The parts of a scaffolder action context the check needs. */
export interface ProjectActionContext extends AuditSubject {
  isDryRun?: boolean;
  getInitiatorCredentials(): Promise<BackstageCredentials>;
}

/**
 * `create`: the action makes a new project (Create new model's first step): the name must be
 * unclaimed, or claimed by this very task (a retry).
 * `use`: the action works on a project: unclaimed (then claimed now, for its catalog owner)
 * or claimed by the same owner.
 * `check`: as `use`, but never claims: for actions whose only effect stays in the workspace.
 */
export type ProjectAccessMode = 'create' | 'use' | 'check';

export interface ProjectAuthorization extends InitiatorAuthorization {
  /** The claim the project holds; undefined only in a dry run of an unclaimed project. */
  claim?: ProjectClaim;
  /** True when this call recorded the claim. */
  claimed: boolean;
}

function claimedByOther(
  project: Pick<ModelProject, 'name' | 'owner'>,
  claim: ProjectClaim,
  action: string,
): NotAllowedError {
  return new NotAllowedError(
    `${action} refused: model project "${project.name}" is owned by ${claim.owner} (claimed ${claim.claimedAt} by ${claim.claimedBy}, task ${claim.taskId}), not by ${project.owner}. ` +
      `Nothing was changed. Choose another name, or ask a member of ${claim.owner} to do this.`,
  );
}

function alreadyExists(
  project: Pick<ModelProject, 'name' | 'owner'>,
  what: string,
  action: string,
): ConflictError {
  return new ConflictError(
    `${action} refused: model project "${project.name}" already exists (${what}). Create new model only makes new projects, and nothing was changed. ` +
      'Choose another name; to finish a failed creation, retry that task from its task page; to change the existing project, use "Provision a model serving endpoint".',
  );
}

/**
 * Before a legacy project (made before claims existed) is claimed: its entities in the catalog
 * name its owner. Any of the project's entity names held by another owner refuses the claim.
 */
async function checkCatalog(
  access: ProjectAccess,
  project: Pick<ModelProject, 'name' | 'owner' | 'serviceAccount'>,
  credentials: BackstageCredentials,
  mode: ProjectAccessMode,
  action: string,
): Promise<void> {
  const names = projectEntityNames(project);
  const refs = [
    stringifyEntityRef({
      kind: 'component',
      namespace: names.namespace,
      name: names.repo,
    }),
    stringifyEntityRef({
      kind: 'resource',
      namespace: names.namespace,
      name: names.model,
    }),
    stringifyEntityRef({
      kind: 'component',
      namespace: names.namespace,
      name: names.endpoint,
    }),
    stringifyEntityRef({
      kind: 'api',
      namespace: names.namespace,
      name: names.api,
    }),
    stringifyEntityRef({
      kind: 'resource',
      namespace: names.namespace,
      name: names.serviceAccount,
    }),
  ];
  const { items } = await access.catalog.getEntitiesByRefs(
    { entityRefs: refs, fields: ['kind', 'metadata.name', 'spec.owner'] },
    { credentials },
  );
  items.forEach((entity, i) => {
    if (!entity) return;
    const owner = String(
      (entity.spec as { owner?: unknown } | undefined)?.owner ?? 'unknown',
    );
    let normalised = owner;
    try {
      normalised = stringifyEntityRef(
        parseEntityRef(owner, {
          defaultKind: 'group',
          defaultNamespace: names.namespace,
        }),
      );
    } catch {
      // an owner that is no ref is nobody's: refused below
    }
    if (normalised !== project.owner) {
      throw new NotAllowedError(
        `${action} refused: ${refs[i]} already exists in the catalog, owned by ${owner}, so model project "${project.name}" cannot be created or used for ${project.owner}. ` +
          'Nothing was changed. Choose another name.',
      );
    }
    if (mode === 'create')
      throw alreadyExists(project, `${refs[i]} is in the catalog`, action);
  });
}

/**
 * The one question every action asks before its first side effect, in real runs and dry runs:
 * may the initiator act for `owner` (a member, or admin scope), and is `name` unclaimed or
 * claimed by that owner? In a real run an unclaimed project is claimed now, atomically; two
 * concurrent claims for one name resolve to exactly one winner.
 */
export async function authorizeProject(
  access: ProjectAccess,
  ctx: ProjectActionContext,
  project: Pick<ModelProject, 'name' | 'owner' | 'serviceAccount'>,
  options: { action: string; mode: ProjectAccessMode },
): Promise<ProjectAuthorization> {
  const { action, mode } = options;
  const credentials = await ctx.getInitiatorCredentials();
  const initiator = await authorizeInitiator({
    catalog: access.catalog,
    credentials,
    initiatorRef: ctx.user?.ref,
    owner: project.owner,
    policy: access.policy,
    action,
  });

  const decide = (
    claim: ProjectClaim,
    claimed: boolean,
  ): ProjectAuthorization => {
    if (claim.owner !== project.owner)
      throw claimedByOther(project, claim, action);
    if (mode === 'create' && claim.taskId !== ctx.task.id) {
      throw alreadyExists(
        project,
        `claimed by ${claim.owner} in task ${claim.taskId} at ${claim.claimedAt}`,
        action,
      );
    }
    return { ...initiator, claim, claimed };
  };

  const existing = await access.claims.get(project.name);
  if (existing) return decide(existing, false);

  await checkCatalog(access, project, credentials, mode, action);
  if (ctx.isDryRun || mode === 'check') return { ...initiator, claimed: false };

  const wanted: ProjectClaim = {
    project: project.name,
    owner: project.owner,
    claimedBy: initiator.initiator,
    taskId: ctx.task.id,
    claimedAt: new Date().toISOString(),
  };
  const result = await audited(
    access.auditor,
    ctx,
    {
      eventId: 'model-project-claimed',
      severityLevel: 'high',
      meta: {
        project: project.name,
        owner: project.owner,
        store: access.claims.location,
      },
    },
    () => access.claims.create(wanted),
    r => ({
      created: r.created,
      heldBy: r.claim.owner,
      heldByTask: r.claim.taskId,
    }),
  );
  return decide(result.claim, result.created);
}
