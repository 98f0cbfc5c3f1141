import type { RepositoryRecordState } from '../access/binding';

/**
 * Where model repositories live. On embedded defaults: local git repositories on disk
 * (`local?repo=<name>`); in real installs: GitHub (`github.com?owner=<org>&repo=<name>`).
 */
export interface RepositoryFile {
  /** Path inside the repository, e.g. `catalog-info.yaml`. */
  path: string;
  content: string;
}

export interface RepositoryAuthor {
  name: string;
  email: string;
}

export interface PublishRequest {
  /** `local?repo=<name>` for the local publisher, `github.com?owner=<org>&repo=<name>` for GitHub. */
  repoUrl: string;
  /** Folder whose files become the repository's contents (the task workspace or a child of it). */
  sourceDir: string;
  message: string;
  author: RepositoryAuthor;
  defaultBranch?: string;
  /** Repository description, used when the publisher creates the repository. */
  description?: string;
  /**
   * Called with what the repository holds once the publisher has it (under its lock, or after
   * GitHub's create), before anything is written; throwing stops the publish.
   */
  guard?: (state: RepositoryRecordState) => void;
}

export interface PublishResult {
  repoUrl: string;
  /** Clone URL (a file path for local repositories). */
  remoteUrl: string;
  /** Browsable URL of the repository root. */
  repoContentsUrl: string;
  defaultBranch: string;
  commit: string;
  /** False when the repository already held exactly these files. */
  changed: boolean;
}

export interface CommitFilesRequest {
  repoUrl: string;
  files: RepositoryFile[];
  message: string;
  author: RepositoryAuthor;
}

export interface CatalogLocationSpec {
  type: 'url' | 'file';
  target: string;
}

export interface RepositoryPublisher {
  /** True when this publisher handles the given repoUrl. */
  handles(repoUrl: string): boolean;
  /** Throws an InputError naming repoUrl when this publisher cannot use it (e.g. a bad repository name). */
  checkRepoUrl?(repoUrl: string): void;
  publish(request: PublishRequest): Promise<PublishResult>;
  /** Whether the repository exists, and its provisioning record on the default branch. */
  readRecord(repoUrl: string): Promise<RepositoryRecordState>;
  /** Adds or updates files on the default branch of an existing repository; no commit when nothing changed. */
  commitFiles(
    request: CommitFilesRequest,
  ): Promise<{ commit: string; changed: boolean }>;
  /** Browsable URL of the repository's contents, known without touching the repository (dry runs show it). */
  contentsUrl?(repoUrl: string, branch: string): string;
  /** The catalog location that reads `filePath` from the repository's default branch. */
  catalogLocation(repoUrl: string, filePath: string): CatalogLocationSpec;
}
