import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseEntityRef } from '@backstage/catalog-model';
import type { GitOpsChange } from './types';

/** Team slugs to request review from: the owning group's name (GitHub team slug); none for a User owner. */
export function reviewersFor(owner: string): string[] {
  const ref = parseEntityRef(owner);
  return ref.kind.toLowerCase() === 'group' ? [ref.name] : [];
}

/** Rejects changes that could escape the repository or carry nothing. */
export function assertChange(change: GitOpsChange): void {
  if (!change.branch || change.branch.startsWith('-')) {
    throw new Error(
      `GitOps branch "${change.branch}" is not a valid branch name`,
    );
  }
  if (change.files.length === 0) throw new Error('GitOps change has no files');
  const seen = new Set<string>();
  for (const file of change.files) {
    const p = file.path;
    if (
      !p ||
      p.startsWith('/') ||
      p.includes('\\') ||
      /[\0\n\t]/.test(p) ||
      path.posix.normalize(p) !== p ||
      p
        .split('/')
        .some(
          seg => seg === '..' || seg === '.' || seg === '' || seg === '.git',
        )
    ) {
      throw new Error(
        `GitOps file path "${p}" must be a normalised relative path inside the repository`,
      );
    }
    if (seen.has(p)) throw new Error(`GitOps change lists "${p}" twice`);
    seen.add(p);
  }
}

/** Commit message: title, description and a trailer naming the initiator. */
export function commitMessage(change: GitOpsChange): string {
  return `${change.title}\n\n${change.description}\n\nInitiated-by: ${change.initiator}\n`;
}

/** Git's blob id for a text file (sha1 of "blob <size>\0<content>"), to compare without uploading. */
export function gitBlobSha(content: string): string {
  const body = Buffer.from(content, 'utf8');
  return createHash('sha1')
    .update(`blob ${body.length}\0`)
    .update(body)
    .digest('hex');
}
