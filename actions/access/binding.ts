import { NotAllowedError } from '@backstage/errors';

/**
 * A model repository is bound to the project that created it by the provisioning record it
 * carries (`.backstage/provisioning.json`): publish writes its first version, catalog
 * registration completes it. Actions act on an existing repository only when that record
 * names the same project and owner.
 */
export const PROVISIONING_RECORD_FILE = '.backstage/provisioning.json';

export interface RepositoryBinding {
  project: string;
  owner: string;
}

/** What a publisher found at a repoUrl, read from the repository's default branch. */
export type RepositoryRecordState =
  { exists: false } | { exists: true; record?: string };

/** The project and owner a provisioning record names, or undefined when it names none. */
export function bindingOf(
  record: string | undefined,
): RepositoryBinding | undefined {
  if (record === undefined) return undefined;
  try {
    const project = (
      JSON.parse(record) as { project?: { name?: unknown; owner?: unknown } }
    ).project;
    if (
      typeof project?.name === 'string' &&
      typeof project.owner === 'string'
    ) {
      return { project: project.name, owner: project.owner };
    }
  } catch {
    // not a record of ours
  }
  return undefined;
}

/**
 * Refuses to act on an existing repository that is not bound to this project and owner.
 * A repository that does not exist yet is fine: publishing creates it, bound.
 */
export function assertRepositoryBound(
  state: RepositoryRecordState,
  expected: RepositoryBinding,
  context: { repoUrl: string; action: string },
): void {
  if (!state.exists) return;
  const bound = bindingOf(state.record);
  const where = `repository ${context.repoUrl.slice(0, 200)}`;
  if (!bound) {
    throw new NotAllowedError(
      `${context.action} refuses ${where}: it already exists and carries no ${PROVISIONING_RECORD_FILE} binding it to model project "${expected.project}". ` +
        'It was not created by this wizard for this project, so nothing was changed. Choose a new repository name.',
    );
  }
  if (bound.project !== expected.project || bound.owner !== expected.owner) {
    throw new NotAllowedError(
      `${context.action} refuses ${where}: it belongs to model project "${bound.project}" owned by ${bound.owner}, not to "${expected.project}" for ${expected.owner}. ` +
        'Nothing was changed. Use the repository of your own project, or choose a new repository name.',
    );
  }
}

/** The first provisioning record, written by publish; catalog registration completes it. */
export function initialProvisioningRecord(input: {
  project: { name: string; owner: string; namespace: string };
  initiator: string;
  taskId: string;
  repoUrl: string;
}): string {
  const record = {
    project: {
      name: input.project.name,
      namespace: input.project.namespace,
      owner: input.project.owner,
    },
    provisionedBy: input.initiator,
    repository: input.repoUrl,
    task: { id: input.taskId },
    version: 1,
  };
  return `${JSON.stringify(record, null, 2)}\n`;
}
