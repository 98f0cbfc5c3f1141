/**
 * The project claim: the first run that creates a model project records its owner once, in
 * a store every Backstage replica shares (the GitOps repository). Every action asks the same
 * question against it before any side effect (see ./project.ts).
 */
export interface ProjectClaim {
  /** The project name (DNS label). */
  project: string;
  /** Full entity ref of the owning group, e.g. `group:default/ml-platform`. */
  owner: string;
  /** Who started the task that claimed it (`ctx.user.ref`). */
  claimedBy: string;
  /** Scaffolder task that claimed it; a retry of that task holds the claim too. */
  taskId: string;
  /** ISO-8601 time of the claim. */
  claimedAt: string;
}

export type ClaimResult =
  /** This call recorded the claim. */
  | { created: true; claim: ProjectClaim }
  /** Someone had claimed it already (possibly a concurrent task that won the race). */
  | { created: false; claim: ProjectClaim };

/**
 * Where claims live. Implementations make `create` atomic across processes and replicas:
 * of two concurrent creates for one project exactly one returns `created: true`, the other
 * gets the winner's claim back.
 */
export interface ClaimStore {
  /** Human-readable location of the claims, named in errors and docs (e.g. the repository). */
  readonly location: string;
  get(project: string): Promise<ProjectClaim | undefined>;
  create(claim: ProjectClaim): Promise<ClaimResult>;
}

const CLAIM_FIELDS = [
  'project',
  'owner',
  'claimedBy',
  'taskId',
  'claimedAt',
] as const;

/** The claim as stored: one JSON line, keys in a fixed order. */
export function serialiseClaim(claim: ProjectClaim): string {
  return JSON.stringify(
    Object.fromEntries(CLAIM_FIELDS.map(k => [k, claim[k]])),
  );
}

/** Parses a stored claim; throws naming `where` when it is not one (never guessed). */
export function parseClaim(text: string, where: string): ProjectClaim {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(
      `The project claim at ${where} is not JSON; a platform admin must repair or remove it`,
    );
  }
  const o = value as Record<string, unknown>;
  for (const k of CLAIM_FIELDS) {
    if (typeof o?.[k] !== 'string' || o[k] === '') {
      throw new Error(
        `The project claim at ${where} has no "${k}"; a platform admin must repair or remove it`,
      );
    }
  }
  return Object.fromEntries(
    CLAIM_FIELDS.map(k => [k, o[k]]),
  ) as unknown as ProjectClaim;
}

/** Commit message that carries a claim: a readable title, then the JSON on its own line. */
export function claimCommitMessage(claim: ProjectClaim): string {
  return `Claim model project ${claim.project} for ${claim.owner}\n\n${serialiseClaim(claim)}\n`;
}

/** The claim inside a commit message written by claimCommitMessage. */
export function claimFromCommitMessage(
  message: string,
  where: string,
): ProjectClaim {
  const line = message
    .split('\n')
    .map(l => l.trim())
    .find(l => l.startsWith('{'));
  if (!line)
    throw new Error(
      `The project claim at ${where} carries no claim record; a platform admin must repair or remove it`,
    );
  return parseClaim(line, where);
}

/** The ref that holds a project's claim in the GitOps repository. */
export const CLAIM_REF_PREFIX = 'refs/tensorflow/claims/';
export function claimRef(project: string): string {
  return `${CLAIM_REF_PREFIX}${project}`;
}
