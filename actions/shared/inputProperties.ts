import type { z as zod } from 'zod/v3';

/**
 * Input fragments every project-level action shares, so `name` and `owner` read and
 * document the same everywhere (in the style of module-github's inputProperties).
 */
export const projectName = (z: typeof zod) =>
  z.string({
    description:
      'Model project name: a DNS-1123 label such as "fraud-detector" (repository, namespace and endpoint names derive from it)',
  });

export const projectOwner = (z: typeof zod) =>
  z.string({
    description:
      'Owning entity ref, e.g. "group:default/ml-platform"; its kind must be one of tensorflow.ownerKinds (default: group)',
  });
