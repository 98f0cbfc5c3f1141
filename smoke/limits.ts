/**
 * Resource limits of a smoke run (`tensorflow.smoke.limits.*`). A model is user data: it is checked
 * against these before anything is allocated, and the isolated runner is killed when it breaches one.
 */

export interface SmokeLimits {
  /** Wall time of the whole isolated run (start, load, warm-up, timed runs), ms. */
  wallMs: number;
  /** Resident memory (RSS) of the runner process, MiB; wasm memory and ArrayBuffers count. */
  memoryMb: number;
  /** model.json size, bytes. */
  maxModelJsonBytes: number;
  /** Weight bytes, declared in the manifest and present on disk (they must agree). */
  maxWeightBytes: number;
  /** Weight shard files. */
  maxShards: number;
  /** All input tensors of one inference (signature shape × batch × dtype size), bytes. */
  maxInputBytes: number;
  /** The runner's result (the report as JSON), bytes. */
  maxOutputBytes: number;
}

export type SmokeLimitKey = keyof SmokeLimits;

const MiB = 1024 * 1024;

/** Fits a 2-core, few-GB machine that also runs the Backstage backend. */
export const DEFAULT_LIMITS: Readonly<SmokeLimits> = Object.freeze({
  wallMs: 120_000,
  memoryMb: 1024,
  maxModelJsonBytes: 32 * MiB,
  maxWeightBytes: 256 * MiB,
  maxShards: 128,
  maxInputBytes: 64 * MiB,
  maxOutputBytes: 1 * MiB,
});

/** Highest accepted value per key (config and CLI flags). */
export const LIMIT_CEILINGS: Readonly<SmokeLimits> = Object.freeze({
  wallMs: 3_600_000,
  memoryMb: 65_536,
  maxModelJsonBytes: 1024 * MiB,
  maxWeightBytes: 64 * 1024 * MiB,
  maxShards: 100_000,
  maxInputBytes: 16 * 1024 * MiB,
  maxOutputBytes: 256 * MiB,
});

export const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as SmokeLimitKey[];

/** The CLI flag of a limit: `maxWeightBytes` → `max-weight-bytes`, `memoryMb` → `max-memory-mb`. */
export const limitFlag = (key: SmokeLimitKey) =>
  (key.startsWith('max') ? '' : 'max-') +
  key.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`);

export const limitConfigKey = (key: SmokeLimitKey) =>
  `tensorflow.smoke.limits.${key}`;

export function withDefaults(limits: Partial<SmokeLimits> = {}): SmokeLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const k of LIMIT_KEYS) if (limits[k] !== undefined) out[k] = limits[k]!;
  return out;
}

/** Checks one limit value (from config or a flag); returns an error message or undefined. */
export function limitProblem(
  key: SmokeLimitKey,
  value: unknown,
): string | undefined {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > LIMIT_CEILINGS[key]
  ) {
    return `is ${JSON.stringify(value)}; give a whole number from 1 to ${LIMIT_CEILINGS[key]}`;
  }
  return undefined;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${x.toFixed(x < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatLimit(key: SmokeLimitKey, value: number): string {
  if (key === 'wallMs') return `${value} ms`;
  if (key === 'memoryMb') return `${value} MiB`;
  if (key === 'maxShards') return String(value);
  return formatBytes(value);
}

/** A model (or its run) exceeds a limit: the message names the limit and its config key. */
export class SmokeLimitError extends Error {
  constructor(
    readonly limit: SmokeLimitKey,
    /** What happened, e.g. "input 'x' [60000,60000] float32 needs 13.4 GiB". */
    what: string,
    /** Omitted: `what` is the whole message (an error passed on from the runner). */
    limitValue?: number,
  ) {
    super(
      limitValue === undefined
        ? what
        : `${what}; the limit is ${formatLimit(limit, limitValue)} (${limitConfigKey(limit)})`,
    );
    this.name = 'SmokeLimitError';
  }
}
