/**
 * One interface for delivering a project's manifests as a reviewed change.
 * Targets: a local git repository (embedded default) and a GitHub pull request.
 * Serving, identity and gateway all propose to the same branch of the same project,
 * each writing only its own files, so one project has one change under review.
 */
export interface GitOpsFile {
  /** Path inside the GitOps repository, e.g. `projects/ml-fraud-detector/serving/deployment.yaml`. */
  path: string;
  content: string;
}

export interface GitOpsChange {
  /** Branch named after the project (`ModelProject.gitopsBranch`). */
  branch: string;
  /** Commit message / pull-request title. */
  title: string;
  /** Pull-request body: what will be created. */
  description: string;
  files: GitOpsFile[];
  /** Entity ref of the person who started the task; named in the commit. */
  initiator: string;
  /** Commit author; derived from the initiator. */
  author: { name: string; email: string };
  labels?: string[];
  /** Team slugs asked to review (GitHub target). */
  reviewers?: string[];
  /**
   * Optional: the files this change owns. Existing files on the branch whose path matches
   * and that are not in `files` are deleted (e.g. a PodDisruptionBudget that is no longer
   * wanted). Files not matching (other areas, e.g. identity/) are always kept.
   */
  ownedPaths?: RegExp;
}

export interface GitOpsResult {
  target: 'local' | 'github';
  branch: string;
  /** Commit sha that carries the change (the existing head when nothing changed). */
  commit: string;
  /** Pull request URL (github) or a file URL of the repository (local). */
  url: string;
  pullRequestNumber?: number;
  /** False when the branch already held exactly these files. */
  changed: boolean;
}

export interface GitOpsTarget {
  readonly kind: 'local' | 'github';
  /**
   * Optional: the repository's file layout (placeholders {namespace} {project} {area} {kind} {name}),
   * from `tensorflow.gitops.pathTemplate`; render it with `renderGitOpsPath` from ./config.
   */
  readonly pathTemplate?: string;
  propose(change: GitOpsChange): Promise<GitOpsResult>;
}
