import fs from 'node:fs/promises';
import { resolveSafeChildPath, type AuditorService, type BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  ANNOTATION_ORIGIN_LOCATION,
  parseEntityRef,
  RELATION_OWNED_BY,
  stringifyLocationRef,
  type Entity,
} from '@backstage/catalog-model';
import { ConflictError, InputError } from '@backstage/errors';
import { locationSpecToMetadataName, type CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';
import { allowedScopesFor } from '../access/grants';
import type { AccessPolicy } from '../access/config';
import { audited } from '../shared/audit';
import { projectName, projectOwner } from '../shared/inputProperties';
import { initiatorAuthor } from '../shared/initiator';
import { DEFAULT_OWNER_KINDS, deriveProject, type ModelProject, type ProjectNamingOptions } from '../shared/naming';
import type { CatalogLocationSpec, RepositoryPublisher } from '../repository/types';
import type { CatalogConfig } from './config';
import {
  ANNOTATIONS,
  buildCatalogEntities,
  normaliseGrants,
  type BuiltEntities,
  type IdentityInfo,
  type ServingInfo,
  type SmokeSummary,
} from './entities';
import { catalogEntityNames } from './names';
import { normaliseSignature, type ModelSignature, type NormalisedSignature } from './openapi';
import { verifyOwner } from './owner';
import { assertRepositoryBound } from '../access/binding';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { validateEntities } from './validate';
import { PROVISIONING_RECORD_FILE, serialiseProvisioningRecord, type GitOpsChangeRef } from './provisioning';
import { examples } from './register.examples';

export const CATALOG_REGISTER_ACTION_ID = 'tensorflow:catalog:register';
export const CATALOG_INFO_FILE = 'catalog-info.yaml';

export interface CatalogRegisterActionOptions {
  catalog: CatalogService;
  /** Repository publishers; the one that `handles(repoUrl)` commits catalog-info.yaml. */
  publishers: RepositoryPublisher[];
  auditor: AuditorService;
  /** Project naming: namespace prefix and the one owner rule (ownerKinds). */
  naming: ProjectNamingOptions;
  catalogConfig: CatalogConfig;
  /** Who may act on which project: the one check every action makes first. */
  projectAccess: ProjectAccess;
  /** App base URL for links, e.g. `https://backstage.example.com`. */
  baseUrl: string;
  /**
   * The access policy: when given, identity.grants must hold only known scopes the policy
   * lets each group have (the identity step's output always does).
   */
  access?: AccessPolicy;
  /** Poll interval while waiting for the entities (default 500 ms). */
  pollIntervalMs?: number;
}

/** `${baseUrl}/catalog/<ns>/<kind>/<name>` */
export function entityUrl(baseUrl: string, ref: string): string {
  const r = parseEntityRef(ref);
  const enc = encodeURIComponent;
  return `${baseUrl.replace(/\/+$/, '')}/catalog/${enc(r.namespace)}/${enc(r.kind.toLocaleLowerCase('en-US'))}/${enc(r.name)}`;
}

/** Serialises the entities as one multi-document YAML file, keys sorted. */
export function serialiseEntities(entities: Entity[]): string {
  return entities.map(e => yaml.stringify(e, { sortMapEntries: true })).join('---\n');
}

function isConflict(error: unknown): boolean {
  const e = error as { name?: string; statusCode?: number; response?: { status?: number }; body?: { error?: { name?: string } } };
  return e?.name === 'ConflictError' || e?.response?.status === 409 || e?.statusCode === 409 || e?.body?.error?.name === 'ConflictError';
}

function checkUrl(field: string, value: unknown, protocols: string[]): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InputError(`${field} is required: give a URL`);
  if (value.length > 2000) throw new InputError(`${field} is ${value.length} characters long; give a URL of at most 2000`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`${field} "${value.slice(0, 120)}" is not a URL; give an absolute URL such as "https://example.com/x"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new InputError(`${field} "${value.slice(0, 120)}" must use ${protocols.join(' or ')}`);
  }
  return value;
}

const LIFECYCLE = /^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$/;

function checkGrantsAgainstPolicy(policy: AccessPolicy, project: ModelProject, grants: Record<string, string[]>): void {
  for (const [group, scopes] of Object.entries(grants)) {
    const allowed = allowedScopesFor(policy, project, group);
    for (const scope of scopes) {
      if (!policy.scopes[scope]) {
        throw new InputError(`identity.grants["${group}"]: unknown scope "${scope}"; known scopes: ${Object.keys(policy.scopes).sort().join(', ')}`);
      }
      if (!allowed.includes(scope)) {
        throw new InputError(`identity.grants["${group}"]: the access policy does not allow "${scope}" for ${group}; allowed: ${allowed.join(', ') || 'none'} (pass the identity step's grants output)`);
      }
    }
  }
}

function checkServing(serving: ServingInfo, project: ModelProject): ServingInfo {
  if (serving.namespace !== project.namespace) {
    throw new InputError(
      `serving.namespace "${String(serving.namespace).slice(0, 80)}" does not match the project namespace "${project.namespace}"; pass the serving step's namespace output`,
    );
  }
  const grpc = serving.grpcUrl;
  if (grpc !== undefined && (typeof grpc !== 'string' || !/^[^\s]{1,500}$/.test(grpc))) {
    throw new InputError('serving.grpcUrl must be the in-cluster gRPC address, e.g. "x.ns.svc.cluster.local:8500"');
  }
  return {
    namespace: serving.namespace,
    restUrl: checkUrl('serving.restUrl', serving.restUrl, ['http:', 'https:']),
    ...(grpc ? { grpcUrl: grpc } : {}),
    ...(serving.gatewayUrl ? { gatewayUrl: checkUrl('serving.gatewayUrl', serving.gatewayUrl, ['http:', 'https:']) } : {}),
    ...(serving.gitopsUrl ? { gitopsUrl: checkUrl('serving.gitopsUrl', serving.gitopsUrl, ['http:', 'https:', 'file:']) } : {}),
  };
}

/**
 * Accepts the identity step's `{ namespace, name, ref }`, or `name`, `<ns>/<name>`,
 * `system:serviceaccount:<ns>:<name>`; must be the project's account.
 */
function checkServiceAccount(raw: unknown, project: ModelProject): string {
  let value = raw;
  if (raw && typeof raw === 'object') {
    const o = raw as { namespace?: unknown; name?: unknown };
    value = typeof o.namespace === 'string' && typeof o.name === 'string' ? `${o.namespace}/${o.name}` : '';
  }
  if (typeof value !== 'string' || value === '') {
    throw new InputError(`identity.serviceAccount is required: give the service account name "${project.serviceAccount}"`);
  }
  const m = /^(?:system:serviceaccount:([^:]+):([^:]+)|([^/]+)\/([^/]+)|([^/:]+))$/.exec(value);
  const ns = m?.[1] ?? m?.[3];
  const name = m?.[2] ?? m?.[4] ?? m?.[5];
  if (!name || name !== project.serviceAccount || (ns !== undefined && ns !== project.namespace)) {
    throw new InputError(
      `identity.serviceAccount "${value.slice(0, 120)}" is not the project's service account "${project.namespace}/${project.serviceAccount}"; pass the identity step's output`,
    );
  }
  return name;
}

function checkSmoke(given: Partial<SmokeSummary> | undefined, taskTime: string): SmokeSummary | undefined {
  if (!given) return undefined;
  const smoke: Partial<SmokeSummary> = given.date === undefined ? { ...given, date: taskTime } : given;
  const str = (k: 'backend' | 'device' | 'date') => {
    const v = smoke[k];
    if (typeof v !== 'string' || v === '' || v.length > 200) throw new InputError(`model.smoke.${k} must be a non-empty string`);
    return v;
  };
  if (Number.isNaN(Date.parse(str('date')))) throw new InputError('model.smoke.date must be an ISO-8601 time');
  const p50 = smoke.p50Ms;
  if (p50 !== null && p50 !== undefined && (typeof p50 !== 'number' || !Number.isFinite(p50) || p50 < 0)) {
    throw new InputError('model.smoke.p50Ms must be a non-negative number of milliseconds');
  }
  return { backend: str('backend'), device: str('device'), p50Ms: (p50 ?? null) as number, date: str('date') };
}

/** A GitOps change reference (branch, commit, URL) from a step output; only plain values are kept. */
function checkGitOpsRef(
  field: string,
  raw: { branch?: unknown; commit?: unknown; url?: unknown } | undefined,
  names = { branch: `${field}.branch`, commit: `${field}.commit`, url: `${field}.url` },
): GitOpsChangeRef | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object') throw new InputError(`${field} must be the step's GitOps output { branch, commit, url }`);
  const out: GitOpsChangeRef = {};
  if (raw.branch !== undefined && raw.branch !== '') {
    if (typeof raw.branch !== 'string' || !/^[A-Za-z0-9._/-]{1,250}$/.test(raw.branch)) throw new InputError(`${names.branch} must be a git branch name, e.g. "model/fraud-detector"`);
    out.branch = raw.branch;
  }
  if (raw.commit !== undefined && raw.commit !== '') {
    if (typeof raw.commit !== 'string' || !/^[0-9a-f]{7,64}$/.test(raw.commit)) throw new InputError(`${names.commit} must be a git commit id (hex)`);
    out.commit = raw.commit;
  }
  if (raw.url !== undefined && raw.url !== '') out.url = checkUrl(names.url, raw.url, ['http:', 'https:', 'file:']);
  return out.branch || out.commit || out.url ? out : undefined;
}

/** owner/repo from `github.com?owner=o&repo=r` (or a GitHub Enterprise host containing "github"). */
function githubSlug(repoUrl: string): string | undefined {
  const [host, query = ''] = repoUrl.split('?', 2);
  if (!/(^|\.)github\./.test(host)) return undefined;
  const params = new URLSearchParams(query);
  const owner = params.get('owner');
  const repo = params.get('repo');
  return owner && repo ? `${owner}/${repo}` : undefined;
}

async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('cancelled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface WaitOptions {
  catalog: CatalogService;
  credentials: BackstageCredentials;
  built: BuiltEntities;
  origin: string;
  owner: string;
  timeoutSeconds: number;
  intervalMs: number;
  signal?: AbortSignal;
}

/** Polls until every entity is readable from our location, at this task's version, with its ownedBy relation. */
async function waitForEntities(o: WaitOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  const pending = new Map(o.built.entities.map(e => [
    `${e.kind.toLocaleLowerCase('en-US')}:${e.metadata.namespace}/${e.metadata.name}`,
    e.metadata.annotations ?? {},
  ]));
  const ownerLc = o.owner.toLocaleLowerCase('en-US');
  for (;;) {
    for (const [ref, wanted] of [...pending]) {
      const found = await o.catalog.getEntityByRef(ref, { credentials: o.credentials });
      const ann = found?.metadata.annotations ?? {};
      const fresh =
        found &&
        ann[ANNOTATION_ORIGIN_LOCATION] === o.origin &&
        ann[ANNOTATIONS.provisionedAt] === wanted[ANNOTATIONS.provisionedAt] &&
        ann[ANNOTATIONS.taskUrl] === wanted[ANNOTATIONS.taskUrl] &&
        (found.relations ?? []).some(r => r.type === RELATION_OWNED_BY && r.targetRef.toLocaleLowerCase('en-US') === ownerLc);
      if (fresh) pending.delete(ref);
    }
    if (pending.size === 0) return;
    if (o.signal?.aborted) throw new Error('tensorflow:catalog:register was cancelled while waiting for the catalog');
    if (Date.now() >= deadline) {
      throw new Error(
        `the catalog did not show ${[...pending.keys()].join(', ')} from ${o.origin} within ${o.timeoutSeconds}s ` +
          '(tensorflow.catalog.waitTimeoutSeconds). The location is registered; check the catalog processing errors for that location and re-run the task to confirm.',
      );
    }
    try {
      await sleep(Math.min(o.intervalMs, Math.max(0, deadline - Date.now())), o.signal);
    } catch {
      throw new Error('tensorflow:catalog:register was cancelled while waiting for the catalog');
    }
  }
}

/**
 * Refuses when an entity with one of our refs already comes from another location, or names
 * another owner: ownership never moves silently.
 */
async function refuseSteal(
  catalog: CatalogService,
  credentials: BackstageCredentials,
  entities: Entity[],
  origin: string,
  owner: string,
): Promise<void> {
  for (const e of entities) {
    const ref = `${e.kind.toLocaleLowerCase('en-US')}:${e.metadata.namespace}/${e.metadata.name}`;
    const existing = await catalog.getEntityByRef(ref, { credentials });
    if (!existing) continue;
    const ownedBy = (existing.relations ?? []).find(r => r.type === RELATION_OWNED_BY)?.targetRef;
    if (ownedBy && ownedBy.toLocaleLowerCase('en-US') !== owner.toLocaleLowerCase('en-US')) {
      throw new ConflictError(
        `${ref} is owned by ${ownedBy}; refusing to change its owner to ${owner}. Ownership never moves silently: nothing was changed.`,
      );
    }
    const theirs = existing.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION];
    if (theirs !== origin) {
      throw new ConflictError(
        `${ref} already exists in the catalog, registered from ${theirs ?? 'an unknown location'} (owner ${String(
          (existing.spec as { owner?: unknown } | undefined)?.owner ?? 'unknown',
        )}); refusing to take it over from ${origin}. Choose another project name, or unregister that entity first.`,
      );
    }
  }
}

export function createCatalogRegisterAction(options: CatalogRegisterActionOptions) {
  const { catalog, publishers, auditor, naming, catalogConfig, baseUrl } = options;
  const { projectAccess } = options;
  const intervalMs = options.pollIntervalMs ?? 500;

  return createTemplateAction({
    id: CATALOG_REGISTER_ACTION_ID,
    description:
      'Registers the model project in the catalog: repository Component, model Resource, and (with serving) the endpoint Component, its OpenAPI API and the service account Resource, owned by a verified group.',
    examples,
    supportsDryRun: true,
    schema: {
      input: z => {
        const tensor = z.object({
          name: z.string({ description: 'Signature key of the tensor' }),
          dtype: z.string({ description: 'tfjs or TF dtype, e.g. float32 / DT_FLOAT' }),
          shape: z.array(z.number().int().nullable()).nullable().optional().describe('-1/null = unknown size; null = unknown rank'),
          tensorName: z.string().optional(),
        });
        return z.object({
          name: projectName(z),
          owner: projectOwner(z),
          description: z.string({ description: 'One-line description of the model' }),
          system: z.string({ description: 'System entity ref or name' }).optional(),
          lifecycle: z.string({ description: 'Lifecycle (default from tensorflow.catalog.defaultLifecycle)' }).optional(),
          repoUrl: z.string({ description: 'Repository of the model project (local?repo=x or github.com?owner=o&repo=x)' }),
          repoContentsUrl: z.string({ description: 'Browsable URL of the repository (publish step output)' }).optional(),
          model: z
            .object({
              signature: z
                .object({
                  name: z.string().optional(),
                  methodName: z.string().optional(),
                  inputs: z.array(tensor),
                  outputs: z.array(tensor),
                  notes: z.array(z.string()).optional(),
                })
                .optional()
                .describe('Model signature from the validate step'),
              smoke: z
                .object({
                  backend: z.string(),
                  device: z.string(),
                  p50Ms: z.number().nullable().optional(),
                  date: z.string().optional(),
                })
                .optional()
                .describe('Smoke report summary'),
            })
            .optional(),
          serving: z
            .object({
              namespace: z.string(),
              restUrl: z.string(),
              grpcUrl: z.string().optional(),
              gatewayUrl: z.string().optional(),
              gitopsUrl: z.string().optional(),
              gitopsBranch: z.string().optional().describe('The serving step\'s branch output'),
              gitopsCommit: z.string().optional().describe('The serving step\'s commit output'),
            })
            .optional()
            .describe('Serving step outputs; without it only the repository and model are registered'),
          identity: z
            .object({
              serviceAccount: z
                .union([z.string(), z.object({ namespace: z.string(), name: z.string(), ref: z.string().optional() })])
                .describe('The identity step\'s serviceAccount output ({ namespace, name, ref }) or the account name'),
              grants: z.record(z.array(z.string())).optional().describe('Group ref -> scopes'),
              identities: z
                .object({ provider: z.string(), principal: z.string().optional(), resources: z.array(z.string()) })
                .optional()
                .describe('The identity step\'s identities output (recorded in the provisioning record)'),
              gitops: z
                .object({ branch: z.string().optional(), commit: z.string().optional(), url: z.string().optional() })
                .passthrough()
                .optional()
                .describe('The identity step\'s gitops output (recorded in the provisioning record)'),
            })
            .optional(),
        });
      },
      output: z =>
        z.object({
          entityRefs: z.array(z.string()),
          repoEntityRef: z.string(),
          modelEntityRef: z.string(),
          endpointEntityRef: z.string().optional(),
          apiEntityRef: z.string().optional(),
          serviceAccountEntityRef: z.string().optional(),
          repoEntityUrl: z.string(),
          modelEntityUrl: z.string(),
          endpointEntityUrl: z.string().optional(),
          apiEntityUrl: z.string().optional(),
          catalogLocation: z.string(),
          entities: z.array(z.record(z.any())),
        }),
    },
    async handler(ctx) {
      const input = ctx.input;
      const project = deriveProject({ name: input.name, owner: input.owner }, naming);
      const description = typeof input.description === 'string' ? input.description.trim() : '';
      if (!description || description.length > 500) {
        throw new InputError('description is required: one line of at most 500 characters describing the model');
      }
      if (input.lifecycle !== undefined && (typeof input.lifecycle !== 'string' || input.lifecycle.length > 63 || (input.lifecycle.trim() !== '' && !LIFECYCLE.test(input.lifecycle.trim())))) {
        throw new InputError(`lifecycle "${String(input.lifecycle).slice(0, 40)}" is not a lifecycle: use letters and digits joined by - _ . (at most 63), e.g. "experimental" or "production"`);
      }
      if (input.system !== undefined && typeof input.system !== 'string') {
        throw new InputError('system must be a System ref such as "system:default/fraud" or "fraud"');
      }
      const lifecycle = input.lifecycle?.trim() || catalogConfig.defaultLifecycle;
      if (typeof input.repoUrl !== 'string' || input.repoUrl === '' || input.repoUrl.length > 500) {
        throw new InputError('repoUrl is required: pass the repository of the model project (the publish step\'s repoUrl), at most 500 characters');
      }
      const publisher = publishers.find(p => p.handles(input.repoUrl));
      if (!publisher) {
        throw new InputError(`repoUrl "${input.repoUrl.slice(0, 120)}" is not handled by any configured repository publisher; pass the publish step's repoUrl, e.g. "local?repo=fraud-detector"`);
      }
      publisher.checkRepoUrl?.(input.repoUrl);
      const contentsUrl = input.repoContentsUrl ? checkUrl('repoContentsUrl', input.repoContentsUrl, ['http:', 'https:', 'file:']) : undefined;
      const serving = input.serving ? checkServing(input.serving as ServingInfo, project) : undefined;
      if (input.identity !== undefined && (typeof input.identity !== 'object' || input.identity === null || Array.isArray(input.identity))) {
        throw new InputError('identity must be the identity step\'s outputs: { serviceAccount, grants }');
      }
      const identity: IdentityInfo | undefined = input.identity
        ? { serviceAccount: checkServiceAccount(input.identity.serviceAccount, project), grants: input.identity.grants as Record<string, string[]> | undefined }
        : undefined;
      if (identity?.grants !== undefined) {
        const grants = normaliseGrants(identity.grants);
        if (options.access) checkGrantsAgainstPolicy(options.access, project, grants);
      }
      if (input.serving !== undefined && (typeof input.serving !== 'object' || input.serving === null || Array.isArray(input.serving))) {
        throw new InputError('serving must be the serving step\'s outputs: { namespace, restUrl, grpcUrl?, gatewayUrl? }');
      }
      if (input.model !== undefined && (typeof input.model !== 'object' || input.model === null || Array.isArray(input.model))) {
        throw new InputError('model must be an object { signature?, smoke? } from the validate step');
      }
      const names = catalogEntityNames(project);
      const credentials = await ctx.getInitiatorCredentials();

      // Ownership: the owner exists, the initiator may act for it on this project, and the
      // repository is the one bound to this project.
      await verifyOwner({ catalog, credentials, ownerRef: project.owner, ownerKinds: naming.ownerKinds ?? DEFAULT_OWNER_KINDS });

      // The signature: from input, else from the model entity registered earlier.
      let signature: NormalisedSignature | undefined;
      if (input.model?.signature) {
        signature = normaliseSignature(input.model.signature as ModelSignature);
      } else if (serving) {
        const existing = await catalog.getEntityByRef(`resource:${names.namespace}/${names.model}`, { credentials });
        const stored = existing?.metadata.annotations?.[ANNOTATIONS.signature];
        if (stored) {
          try {
            signature = normaliseSignature(JSON.parse(stored) as ModelSignature, `${ANNOTATIONS.signature} of resource:${names.namespace}/${names.model}`);
          } catch (e) {
            if (e instanceof InputError) throw e;
            throw new InputError(`the stored signature of resource:${names.namespace}/${names.model} is not JSON; pass model.signature`);
          }
        }
      }

      const taskUrl = `${baseUrl.replace(/\/+$/, '')}/create/tasks/${encodeURIComponent(ctx.task.id)}`;
      const at = ctx.isDryRun
        ? new Date().toISOString()
        : await ctx.checkpoint({ key: `catalog.register.v1.provisioned-at.${project.name}`, fn: () => new Date().toISOString() });

      const smoke = checkSmoke(input.model?.smoke as Partial<SmokeSummary> | undefined, at);
      const built = buildCatalogEntities({
        project,
        names,
        description,
        system: input.system,
        lifecycle,
        repo: { repoUrl: input.repoUrl, contentsUrl, githubSlug: githubSlug(input.repoUrl) },
        model: { signature, smoke },
        serving,
        identity,
        provenance: { initiator: ctx.user?.ref ?? 'unknown', at, taskUrl },
        rhdh: { aiModelServerApi: catalogConfig.rhdhAiModelServerApi },
      });
      await validateEntities(built.entities);

      // Every input is checked; before anything is written, the one project check, then the repository's binding.
      await authorizeProject(projectAccess, ctx, project, { action: CATALOG_REGISTER_ACTION_ID, mode: 'use' });
      const repository = await publisher.readRecord(input.repoUrl);
      if (!repository.exists && !ctx.isDryRun) {
        throw new InputError(`repoUrl "${input.repoUrl.slice(0, 120)}" names no repository yet; publish the project (tensorflow:repository:publish) before registering it`);
      }
      assertRepositoryBound(repository, { project: project.name, owner: project.owner }, { repoUrl: input.repoUrl, action: CATALOG_REGISTER_ACTION_ID });

      const location: CatalogLocationSpec = publisher.catalogLocation(input.repoUrl, CATALOG_INFO_FILE);
      const origin = stringifyLocationRef(location);
      await refuseSteal(catalog, credentials, built.entities, origin, project.owner);

      const refs = built.refs;
      const entityRefs = [refs.repo, refs.model, refs.serviceAccount, refs.api, refs.endpoint, refs.aiModelServerApi].filter((r): r is string => !!r);
      const emit = () => {
        ctx.output('entityRefs', entityRefs);
        ctx.output('repoEntityRef', refs.repo);
        ctx.output('modelEntityRef', refs.model);
        if (refs.endpoint) ctx.output('endpointEntityRef', refs.endpoint);
        if (refs.api) ctx.output('apiEntityRef', refs.api);
        if (refs.serviceAccount) ctx.output('serviceAccountEntityRef', refs.serviceAccount);
        ctx.output('repoEntityUrl', entityUrl(baseUrl, refs.repo));
        ctx.output('modelEntityUrl', entityUrl(baseUrl, refs.model));
        if (refs.endpoint) ctx.output('endpointEntityUrl', entityUrl(baseUrl, refs.endpoint));
        if (refs.api) ctx.output('apiEntityUrl', entityUrl(baseUrl, refs.api));
        ctx.output('catalogLocation', origin);
        ctx.output('entities', built.entities as unknown as Array<Record<string, any>>);
      };

      if (ctx.isDryRun) {
        ctx.logger.info(`Dry run: would register ${entityRefs.join(', ')} from ${origin}`);
        emit();
        return;
      }

      const content = serialiseEntities(built.entities);
      await fs.writeFile(resolveSafeChildPath(ctx.workspacePath, CATALOG_INFO_FILE), content);
      const servingIn = input.serving as { gitopsBranch?: unknown; gitopsCommit?: unknown } | undefined;
      const identityIn = input.identity as { identities?: { provider?: unknown; principal?: unknown; resources?: unknown }; gitops?: GitOpsChangeRef } | undefined;
      const ids = identityIn?.identities;
      const record = serialiseProvisioningRecord({
        project,
        initiator: ctx.user?.ref ?? 'unknown',
        taskId: ctx.task.id,
        taskUrl,
        provisionedAt: at,
        repoUrl: input.repoUrl,
        entityRefs,
        catalogLocation: origin,
        identity: identity
          ? {
              serviceAccount: `${project.namespace}/${identity.serviceAccount}`,
              grants: identity.grants,
              identities:
                ids && typeof ids === 'object'
                  ? {
                      provider: typeof ids.provider === 'string' ? ids.provider : undefined,
                      principal: typeof ids.principal === 'string' ? ids.principal : undefined,
                      resources: Array.isArray(ids.resources) ? ids.resources.filter((r): r is string => typeof r === 'string') : undefined,
                    }
                  : undefined,
              gitops: checkGitOpsRef('identity.gitops', identityIn?.gitops),
            }
          : undefined,
        serving: serving
          ? {
              namespace: serving.namespace,
              restUrl: serving.restUrl,
              grpcUrl: serving.grpcUrl,
              gatewayUrl: serving.gatewayUrl,
              gitops: checkGitOpsRef('serving', {
                branch: servingIn?.gitopsBranch,
                commit: servingIn?.gitopsCommit,
                url: serving.gitopsUrl,
              }, { branch: 'serving.gitopsBranch', commit: 'serving.gitopsCommit', url: 'serving.gitopsUrl' }),
            }
          : undefined,
      });

      await audited(
        auditor,
        ctx,
        {
          eventId: 'catalog-entities-registered',
          severityLevel: 'medium',
          meta: { entityRefs, owner: project.owner, location: origin, repoUrl: input.repoUrl, files: [CATALOG_INFO_FILE, PROVISIONING_RECORD_FILE] },
        },
        async () => {
          const commit = await publisher.commitFiles({
            repoUrl: input.repoUrl,
            files: [
              { path: CATALOG_INFO_FILE, content },
              { path: PROVISIONING_RECORD_FILE, content: record },
            ],
            message: `Register ${project.name} in the catalog\n\nRequested by ${ctx.user?.ref ?? 'unknown'} (${taskUrl}).`,
            author: initiatorAuthor(ctx.user as Parameters<typeof initiatorAuthor>[0]),
          });
          let existed = false;
          try {
            await catalog.addLocation({ type: location.type, target: location.target }, { credentials });
          } catch (error) {
            if (!isConflict(error)) throw error;
            existed = true;
            await catalog.refreshEntity(`location:default/${locationSpecToMetadataName(location)}`, { credentials });
          }
          await waitForEntities({
            catalog,
            credentials,
            built,
            origin,
            owner: project.owner,
            timeoutSeconds: catalogConfig.waitTimeoutSeconds,
            intervalMs,
            signal: ctx.signal,
          });
          return { commit: commit.commit, changed: commit.changed, existed };
        },
        r => ({ commit: r.commit, fileChanged: r.changed, locationExisted: r.existed }),
      );
      ctx.logger.info(`Registered ${entityRefs.join(', ')} from ${origin}`);
      emit();
    },
  });
}
