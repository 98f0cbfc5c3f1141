/**
 * One commit of files onto a GitHub branch through the git data API
 * (refs → commit → tree → blobs → tree → commit → ref), shared by the GitOps target
 * (actions/gitops/github.ts) and the repository publisher (actions/repository/github.ts).
 *
 * Look-before-write: the branch's tree is read first and blobs GitHub already has are
 * not uploaded again; a branch that already holds exactly these files gets no commit.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { comparePaths } from '../sort';
import type { GithubClient } from './client';

export type GitFileMode = '100644' | '100755' | '120000';

export interface BranchFile {
  /** Normalised relative path inside the repository (`a/b.txt`). */
  path: string;
  /** Text (sent as UTF-8) or bytes (sent as base64). A symlink's content is its target. */
  content: string | Buffer;
  /** Default 100644; 100755 for executables, 120000 for symlinks. */
  mode?: GitFileMode;
}

export interface ExistingEntry {
  path: string;
  mode: string;
  type: string;
  sha: string;
}

export interface CommitToBranchRequest {
  owner: string;
  repo: string;
  branch: string;
  files: BranchFile[];
  message: string;
  author: { name: string; email: string };
  /** Parent when the branch does not exist yet (e.g. the base branch's head); none: a root commit. */
  startPoint?: string;
  /**
   * `overlay` (default): add or update `files` on the parent's tree (and delete the existing
   * paths `remove` selects); `replace`: the new tree holds exactly `files`.
   */
  strategy?: 'overlay' | 'replace';
  /** overlay only: existing paths to delete unless they are in `files`. */
  remove?: (path: string) => boolean;
  /**
   * Make a parentless commit and move the branch with force. Only for replacing the
   * `auto_init` commit of a repository created moments ago by the caller.
   */
  replaceHistory?: boolean;
}

export interface CommitToBranchResult {
  /** The new commit, or the branch head (start point) when nothing changed. */
  commit: string;
  changed: boolean;
  /** Whether the branch existed before this call. */
  branchExisted: boolean;
}

export interface TreePlan {
  changed: boolean;
  /** Files whose blob GitHub does not have yet. */
  upload: BranchFile[];
  /** Tree entries that reuse blobs already in the repository. */
  reuse: Array<{ path: string; mode: GitFileMode; sha: string }>;
  /** overlay only: paths to delete. */
  remove: string[];
}

/** Git's blob id (sha1 of "blob <size>\0<content>"), to compare without uploading. */
export function gitBlobSha(content: string | Buffer): string {
  const body =
    typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1')
    .update(`blob ${body.length}\0`)
    .update(body)
    .digest('hex');
}

/** Throws unless `p` is a normalised relative path inside a repository (no `..`, no `.git`). */
export function assertRepositoryPath(p: string, what = 'file path'): void {
  if (
    !p ||
    p.startsWith('/') ||
    p.includes('\\') ||
    /[\0\n\r\t]/.test(p) ||
    path.posix.normalize(p) !== p ||
    p
      .split('/')
      .some(seg => seg === '..' || seg === '.' || seg === '' || seg === '.git')
  ) {
    throw new Error(
      `${what} "${p}" must be a normalised relative path inside the repository`,
    );
  }
}

/**
 * Pure: what to upload and whether anything changes, given the parent's tree
 * (`existing` undefined when there is no parent; `truncated` when GitHub cut the listing).
 */
export function planTree(
  existing: ExistingEntry[] | undefined,
  truncated: boolean,
  files: BranchFile[],
  strategy: 'overlay' | 'replace',
  remove?: (path: string) => boolean,
): TreePlan {
  const byPath = new Map<string, ExistingEntry>();
  const knownShas = new Set<string>();
  for (const entry of existing ?? []) {
    if (entry.type === 'blob') {
      byPath.set(entry.path, entry);
      knownShas.add(entry.sha);
    }
  }
  const wanted = new Set(files.map(f => f.path));
  const same = (f: BranchFile) => {
    const e = byPath.get(f.path);
    return (
      e !== undefined &&
      e.sha === gitBlobSha(f.content) &&
      e.mode === (f.mode ?? '100644')
    );
  };
  if (strategy === 'overlay') {
    const upload = files.filter(f => truncated || !same(f));
    const removed = remove
      ? [...byPath.keys()].filter(p => remove(p) && !wanted.has(p))
      : [];
    return {
      changed: upload.length > 0 || removed.length > 0,
      upload,
      reuse: [],
      remove: removed,
    };
  }
  const upload: BranchFile[] = [];
  const reuse: TreePlan['reuse'] = [];
  for (const f of files) {
    const sha = gitBlobSha(f.content);
    if (knownShas.has(sha))
      reuse.push({ path: f.path, mode: f.mode ?? '100644', sha });
    else upload.push(f);
  }
  // Only blobs may be in the tree, exactly ours: anything else (a submodule, a tree GitHub cut off) is a change.
  const identical =
    existing !== undefined &&
    !truncated &&
    existing.every(
      e => e.type === 'tree' || (e.type === 'blob' && wanted.has(e.path)),
    ) &&
    files.every(same);
  return { changed: !identical, upload, reuse, remove: [] };
}

function status(error: unknown): number | undefined {
  const s = (error as { status?: unknown } | undefined)?.status;
  return typeof s === 'number' ? s : undefined;
}

/** Reads a branch head; undefined when the branch does not exist. */
export async function getBranchHead(
  octokit: GithubClient,
  owner: string,
  repo: string,
  branch: string,
) {
  try {
    return (
      await octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` })
    ).data.object.sha;
  } catch (error) {
    if (status(error) === 404) return undefined;
    throw error;
  }
}

/** Commits `files` onto `branch` as one commit (none when nothing changes), creating the branch if needed. */
export async function commitToBranch(
  octokit: GithubClient,
  request: CommitToBranchRequest,
): Promise<CommitToBranchResult> {
  const { owner, repo, branch, files } = request;
  const strategy = request.strategy ?? 'overlay';
  const seen = new Set<string>();
  for (const f of files) {
    assertRepositoryPath(f.path);
    if (seen.has(f.path)) throw new Error(`file "${f.path}" is listed twice`);
    seen.add(f.path);
  }

  const head = await getBranchHead(octokit, owner, repo, branch);
  const parent = request.replaceHistory
    ? undefined
    : (head ?? request.startPoint);
  let parentTree: string | undefined;
  let existing: ExistingEntry[] | undefined;
  let truncated = false;
  if (parent) {
    const parentCommit = await octokit.rest.git.getCommit({
      owner,
      repo,
      commit_sha: parent,
    });
    parentTree = parentCommit.data.tree.sha;
    const tree = await octokit.rest.git.getTree({
      owner,
      repo,
      tree_sha: parentTree,
      recursive: 'true',
    });
    truncated = tree.data.truncated;
    existing = tree.data.tree.flatMap(e =>
      e.path && e.sha && e.type && e.mode
        ? [{ path: e.path, sha: e.sha, type: e.type, mode: e.mode }]
        : [],
    );
  }

  const plan = planTree(existing, truncated, files, strategy, request.remove);
  if (!plan.changed && parent)
    return {
      commit: parent,
      changed: false,
      branchExisted: head !== undefined,
    };

  const entries: Array<{
    path: string;
    mode: GitFileMode;
    type: 'blob';
    sha: string | null;
  }> = plan.reuse.map(e => ({
    ...e,
    type: 'blob',
  }));
  for (const file of plan.upload) {
    const blob =
      typeof file.content === 'string'
        ? await octokit.rest.git.createBlob({
            owner,
            repo,
            content: file.content,
            encoding: 'utf-8',
          })
        : await octokit.rest.git.createBlob({
            owner,
            repo,
            content: file.content.toString('base64'),
            encoding: 'base64',
          });
    entries.push({
      path: file.path,
      mode: file.mode ?? '100644',
      type: 'blob',
      sha: blob.data.sha,
    });
  }
  for (const p of plan.remove)
    entries.push({ path: p, mode: '100644', type: 'blob', sha: null });
  if (strategy === 'replace') entries.sort(comparePaths);

  const newTree = await octokit.rest.git.createTree({
    owner,
    repo,
    ...(strategy === 'overlay' && parentTree ? { base_tree: parentTree } : {}),
    tree: entries,
  });
  if (parent && newTree.data.sha === parentTree) {
    return {
      commit: parent,
      changed: false,
      branchExisted: head !== undefined,
    };
  }
  const created = await octokit.rest.git.createCommit({
    owner,
    repo,
    message: request.message,
    tree: newTree.data.sha,
    parents: parent ? [parent] : [],
    author: { name: request.author.name, email: request.author.email },
  });
  const commit = created.data.sha;
  if (head) {
    await octokit.rest.git.updateRef({
      owner,
      repo,
      ref: `heads/${branch}`,
      sha: commit,
      force: Boolean(request.replaceHistory),
    });
  } else {
    await octokit.rest.git.createRef({
      owner,
      repo,
      ref: `refs/heads/${branch}`,
      sha: commit,
    });
  }
  return { commit, changed: true, branchExisted: head !== undefined };
}
