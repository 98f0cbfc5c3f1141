import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import {
  assertRepositoryBound,
  bindingOf,
  initialProvisioningRecord,
  PROVISIONING_RECORD_FILE,
} from '../access/binding';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { audited } from '../shared/audit';
import { boundedString, workspacePath } from '../shared/input';
import { projectName, projectOwner } from '../shared/inputProperties';
import { initiatorAuthor } from '../shared/initiator';
import { deriveProject, type ProjectNamingOptions } from '../shared/naming';
import { examples } from './publish.examples';
import type { RepositoryPublisher } from './types';

export const REPOSITORY_PUBLISH_ACTION_ID = 'tensorflow:repository:publish';

export interface RepositoryPublishActionOptions {
  publishers: RepositoryPublisher[];
  auditor: AuditorService;
  naming: ProjectNamingOptions;
  projectAccess: ProjectAccess;
}

/** Longest commit message accepted. */
export const MAX_COMMIT_MESSAGE = 4096;

export function findPublisher(
  publishers: RepositoryPublisher[],
  repoUrl: string,
): RepositoryPublisher {
  const publisher = publishers.find(p => p.handles(repoUrl));
  // Refuse a repository name the publisher cannot use before anything is audited or written.
  publisher?.checkRepoUrl?.(repoUrl);
  if (!publisher) {
    throw new InputError(
      `repoUrl "${repoUrl.slice(0, 80)}" names no repository host this backend publishes to; use "local?repo=<name>" on embedded defaults, or "github.com?owner=<org>&repo=<name>" for a GitHub host configured under integrations.github`,
    );
  }
  return publisher;
}

/**
 * Publishes the workspace as the model project's repository, committed in the initiator's name.
 * @public
 */
export function createRepositoryPublishAction(
  options: RepositoryPublishActionOptions,
) {
  const { publishers, auditor, naming, projectAccess } = options;
  return createTemplateAction({
    id: REPOSITORY_PUBLISH_ACTION_ID,
    description:
      'Publishes the workspace as the model repository (a local git repository on embedded defaults), committed with the initiator as author and bound to the project by .backstage/provisioning.json. An existing repository is updated only when it is bound to the same project and owner. Re-publishing identical content makes no new commit.',
    examples: examples(),
    supportsDryRun: true,
    schema: {
      input: z =>
        z.object({
          name: projectName(z),
          owner: projectOwner(z),
          repoUrl: z
            .string()
            .describe('Repository location, e.g. "local?repo=fraud-detector"'),
          sourcePath: z
            .string()
            .optional()
            .describe('Workspace-relative folder to publish. Default: "."'),
          defaultBranch: z
            .string()
            .optional()
            .describe('Default branch. Default: "main"'),
          gitCommitMessage: z
            .string()
            .optional()
            .describe('Commit message. Default: "Initial commit"'),
        }),
      output: z =>
        z.object({
          remoteUrl: z.string().describe('Clone URL of the repository'),
          repoContentsUrl: z
            .string()
            .describe('URL of the repository contents'),
          commit: z.string().describe('Commit that holds the published files'),
          defaultBranch: z.string(),
        }),
    },
    async handler(ctx) {
      const project = deriveProject(
        { name: ctx.input.name, owner: ctx.input.owner },
        naming,
      );
      const repoUrl = boundedString(
        'repoUrl',
        ctx.input.repoUrl,
        500,
        'local?repo=fraud-detector',
      );
      const sourcePath = ctx.input.sourcePath ?? '.';
      const defaultBranch = boundedString(
        'defaultBranch',
        ctx.input.defaultBranch ?? 'main',
        200,
        'main',
      );
      const message = boundedString(
        'gitCommitMessage',
        ctx.input.gitCommitMessage ?? 'Initial commit',
        MAX_COMMIT_MESSAGE,
        'Initial commit',
      );
      if (
        !/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(
          defaultBranch,
        ) ||
        defaultBranch.includes('..') ||
        defaultBranch.endsWith('.lock')
      ) {
        throw new InputError(
          `defaultBranch "${defaultBranch}" is not a valid branch name; use e.g. "main"`,
        );
      }
      const publisher = findPublisher(publishers, repoUrl);
      const sourceDir = workspacePath(
        'sourcePath',
        ctx.workspacePath,
        sourcePath,
        '.',
      );
      if (!fs.statSync(sourceDir, { throwIfNoEntry: false })?.isDirectory()) {
        throw new InputError(
          `sourcePath "${sourcePath}" is not a folder in the workspace; give the folder to publish, e.g. "."`,
        );
      }
      await authorizeProject(projectAccess, ctx, project, {
        action: REPOSITORY_PUBLISH_ACTION_ID,
        mode: 'use',
      });
      const binding = { project: project.name, owner: project.owner };
      const bindingContext = { repoUrl, action: REPOSITORY_PUBLISH_ACTION_ID };
      // Look before anything is written: an existing repository must already be this project's.
      assertRepositoryBound(
        await publisher.readRecord(repoUrl),
        binding,
        bindingContext,
      );
      if (ctx.isDryRun) {
        ctx.logger.info(`Dry run: would publish ${sourcePath} to ${repoUrl}`);
        const contentsUrl =
          publisher.contentsUrl?.(repoUrl, defaultBranch) ??
          `https://${repoUrl}`;
        ctx.output('remoteUrl', contentsUrl);
        ctx.output('repoContentsUrl', contentsUrl);
        ctx.output('commit', '0000000000000000000000000000000000000000');
        ctx.output('defaultBranch', defaultBranch);
        return;
      }
      const author = initiatorAuthor(ctx.user);
      const recordPath = resolveSafeChildPath(
        sourceDir,
        PROVISIONING_RECORD_FILE,
      );
      const inWorkspace = fs.existsSync(recordPath)
        ? bindingOf(fs.readFileSync(recordPath, 'utf8'))
        : undefined;
      if (
        inWorkspace?.project !== project.name ||
        inWorkspace.owner !== project.owner
      ) {
        fs.mkdirSync(path.dirname(recordPath), { recursive: true });
        fs.writeFileSync(
          recordPath,
          initialProvisioningRecord({
            project,
            initiator: ctx.user?.ref ?? 'unknown',
            taskId: ctx.task.id,
            repoUrl,
          }),
        );
      }
      const result = await ctx.checkpoint({
        key: `v1.repository.publish.${repoUrl}`,
        fn: () =>
          audited(
            auditor,
            ctx,
            {
              eventId: 'model-repository-published',
              severityLevel: 'medium',
              meta: {
                project: project.name,
                owner: project.owner,
                repoUrl,
                defaultBranch,
              },
            },
            () =>
              publisher.publish({
                repoUrl,
                sourceDir,
                message,
                author,
                defaultBranch,
                // Checked again where the publisher holds the repository, against a concurrent publish.
                guard: state =>
                  assertRepositoryBound(state, binding, bindingContext),
              }),
            r => ({
              commit: r.commit,
              changed: r.changed,
              remoteUrl: r.remoteUrl,
            }),
          ).then(r => ({ ...r })),
      });
      ctx.logger.info(
        result.changed
          ? `Published ${repoUrl} at commit ${result.commit}`
          : `${repoUrl} already held these files at commit ${result.commit}`,
      );
      ctx.output('remoteUrl', result.remoteUrl);
      ctx.output('repoContentsUrl', result.repoContentsUrl);
      ctx.output('commit', result.commit);
      ctx.output('defaultBranch', result.defaultBranch);
    },
  });
}
