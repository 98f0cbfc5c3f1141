import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import type { JsonObject } from '@backstage/types';
import { ciSkeletonValues, type CiContract } from '../identity/ciContract';
import { authorizeProject, type ProjectAccess } from '../access/project';
import { audited } from '../shared/audit';
import { boundedString, workspacePath } from '../shared/input';
import { projectName, projectOwner } from '../shared/inputProperties';
import {
  deriveProject,
  type ModelProject,
  type ProjectNamingOptions,
} from '../shared/naming';
import { examples } from './create.examples';
import { renderSkeleton, resolveSkeleton, writeRendered } from './skeleton';

export interface ModelCreateActionOptions {
  /** Folder holding the packaged skeletons (one folder per skeleton). */
  skeletonsDir: string;
  auditor: AuditorService;
  /** The CI contract for the configured cloud; the skeleton gets it as the value `ci` (default: no deploy jobs). */
  ci?: CiContract;
  naming: ProjectNamingOptions;
  /** Who may create which project: the one check every action makes first. */
  projectAccess: ProjectAccess;
}

export const MODEL_CREATE_ACTION_ID = 'tensorflow:model:create';

/** Longest string value a skeleton gets. */
export const MAX_VALUE_LENGTH = 4096;

/**
 * Values are data; every string bounded. The skeleton's `name` and `owner` are the project's:
 * given here they must agree with the `name` and `owner` inputs, and are filled in from them.
 */
function checkValues(values: JsonObject, project: ModelProject): JsonObject {
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string' && value.length > MAX_VALUE_LENGTH) {
      throw new InputError(
        `values.${key.slice(0, 40)} is ${value.length} characters long; use at most ${MAX_VALUE_LENGTH}`,
      );
    }
  }
  for (const key of ['name', 'owner'] as const) {
    if (values[key] !== undefined && values[key] !== project[key]) {
      throw new InputError(
        `values.${key} "${String(values[key]).slice(0, 80)}" differs from the ${key} input "${project[key]}"; remove values.${key} and use the ${key} input (values.${key} is filled in from it)`,
      );
    }
  }
  return { ...values, name: project.name, owner: project.owner };
}

/**
 * Renders a Handlebars skeleton into the workspace.
 * @public
 */
export function createModelCreateAction(options: ModelCreateActionOptions) {
  const { skeletonsDir, auditor, naming, projectAccess } = options;
  const ci = ciSkeletonValues(
    options.ci ?? { cloud: 'none', deploy: false, variables: [] },
  );
  return createTemplateAction({
    id: MODEL_CREATE_ACTION_ID,
    description:
      'Creates a new model project in the workspace from a Handlebars skeleton: names and .hbs contents are rendered strictly, other files are copied byte for byte.',
    examples: examples(),
    supportsDryRun: true,
    schema: {
      input: z =>
        z.object({
          name: projectName(z),
          owner: projectOwner(z),
          skeleton: z
            .string()
            .describe(
              'Name of a packaged skeleton (a folder under skeletons/) or a workspace-relative folder',
            ),
          targetPath: z
            .string()
            .optional()
            .describe('Workspace-relative folder to render into. Default: "."'),
          values: z
            .record(z.any())
            .optional()
            .describe(
              'Values the skeleton refers to, e.g. { description }; name and owner are filled in from the inputs. They are data, never templates.',
            ),
          overwrite: z
            .boolean()
            .optional()
            .describe(
              'Replace files that already exist with different content. Default: false',
            ),
        }),
      output: z =>
        z.object({
          files: z
            .array(z.string())
            .describe(
              'Workspace-relative paths of the files the skeleton produced',
            ),
          targetPath: z
            .string()
            .describe(
              'Workspace-relative folder the skeleton was rendered into',
            ),
        }),
    },
    async handler(ctx) {
      const project = deriveProject(
        { name: ctx.input.name, owner: ctx.input.owner },
        naming,
      );
      const skeleton = boundedString(
        'skeleton',
        ctx.input.skeleton,
        200,
        'model-project',
      );
      const targetPath = ctx.input.targetPath ?? '.';
      // `ci` is the platform's, never the caller's: the workflow must read what the identity and github steps set.
      const given = (ctx.input.values ?? {}) as JsonObject;
      const overwrite = ctx.input.overwrite ?? false;
      if (typeof given !== 'object' || given === null || Array.isArray(given)) {
        throw new InputError(
          'values must be an object of names to values, e.g. { description: "Scores transactions" }',
        );
      }
      if (typeof overwrite !== 'boolean')
        throw new InputError('overwrite must be true or false (default false)');
      const values = { ...checkValues(given, project), ci } as JsonObject;
      const targetDir = workspacePath(
        'targetPath',
        ctx.workspacePath,
        targetPath,
        'model',
      );
      const skeletonDir = await resolveSkeleton(skeleton, {
        skeletonsDir,
        workspacePath: ctx.workspacePath,
      });
      const files = await renderSkeleton(skeletonDir, values);
      const prefix =
        targetPath === '.' ? '' : `${targetPath.replace(/\/+$/, '')}/`;
      const paths = files.map(f => `${prefix}${f.path}`);
      // A new project: the name must be free (or held by this task, on a retry). Claimed here, first.
      await authorizeProject(projectAccess, ctx, project, {
        action: MODEL_CREATE_ACTION_ID,
        mode: 'create',
      });

      // The workspace is the only thing written, in dry run too: the dry run's workspace
      // is what the scaffolder shows as directoryContents.
      const result = await audited(
        auditor,
        ctx,
        {
          eventId: 'model-project-created',
          severityLevel: 'low',
          meta: {
            skeleton,
            targetPath,
            fileCount: files.length,
            dryRun: ctx.isDryRun ?? false,
          },
        },
        () => writeRendered(targetDir, files, { overwrite }),
        r => ({ written: r.written.length, unchanged: r.unchanged.length }),
      );
      ctx.logger.info(
        `Rendered skeleton "${skeleton}" into ${targetPath}: ${result.written.length} written, ${result.unchanged.length} already up to date`,
      );
      ctx.output('files', paths);
      ctx.output('targetPath', targetPath);
    },
  });
}
