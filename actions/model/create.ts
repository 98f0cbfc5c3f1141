import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { resolveSafeChildPath, type AuditorService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import type { JsonObject } from '@backstage/types';
import { audited } from '../shared/audit';
import { examples } from './create.examples';
import { renderSkeleton, resolveSkeleton, writeRendered } from './skeleton';

export interface ModelCreateActionOptions {
  /** Folder holding the packaged skeletons (one folder per skeleton). */
  skeletonsDir: string;
  auditor: AuditorService;
}

/**
 * Renders a Handlebars skeleton into the workspace.
 * @public
 */
export function createModelCreateAction(options: ModelCreateActionOptions) {
  const { skeletonsDir, auditor } = options;
  return createTemplateAction({
    id: 'tensorflow:model:create',
    description:
      'Creates a new model project in the workspace from a Handlebars skeleton: names and .hbs contents are rendered strictly, other files are copied byte for byte.',
    examples,
    supportsDryRun: true,
    schema: {
      input: z =>
        z.object({
          skeleton: z
            .string()
            .describe('Name of a packaged skeleton (a folder under skeletons/) or a workspace-relative folder'),
          targetPath: z
            .string()
            .optional()
            .describe('Workspace-relative folder to render into. Default: "."'),
          values: z
            .record(z.any())
            .optional()
            .describe('Values the skeleton refers to, e.g. { name, owner, description }. They are data, never templates.'),
          overwrite: z
            .boolean()
            .optional()
            .describe('Replace files that already exist with different content. Default: false'),
        }),
      output: z =>
        z.object({
          files: z.array(z.string()).describe('Workspace-relative paths of the files the skeleton produced'),
          targetPath: z.string().describe('Workspace-relative folder the skeleton was rendered into'),
        }),
    },
    async handler(ctx) {
      const { skeleton } = ctx.input;
      const targetPath = ctx.input.targetPath ?? '.';
      const values = (ctx.input.values ?? {}) as JsonObject;
      const overwrite = ctx.input.overwrite ?? false;
      if (typeof values !== 'object' || values === null || Array.isArray(values)) {
        throw new InputError('values must be an object of names to values, e.g. { name: "fraud-detector" }');
      }
      let targetDir: string;
      try {
        targetDir = resolveSafeChildPath(ctx.workspacePath, targetPath);
      } catch {
        throw new InputError(`targetPath "${targetPath}" is outside the workspace; use a relative path such as "." or "model"`);
      }
      const skeletonDir = await resolveSkeleton(skeleton, { skeletonsDir, workspacePath: ctx.workspacePath });
      const files = await renderSkeleton(skeletonDir, values);
      const prefix = targetPath === '.' ? '' : `${targetPath.replace(/\/+$/, '')}/`;
      const paths = files.map(f => `${prefix}${f.path}`);

      // The workspace is the only thing written, in dry run too: the dry run's workspace
      // is what the scaffolder shows as directoryContents.
      const result = await audited(
        auditor,
        ctx,
        {
          eventId: 'model-project-created',
          severityLevel: 'low',
          meta: { skeleton, targetPath, fileCount: files.length, dryRun: ctx.isDryRun ?? false },
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
