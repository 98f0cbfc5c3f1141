import type { Config } from '@backstage/config';
import { configError } from '../shared/config';
import type { SmokeDefaults } from './validate';
import { LIMIT_KEYS, limitProblem, type SmokeLimits } from '../../smoke/limits';

function positiveInt(
  config: Config,
  key: string,
  max: number,
): number | undefined {
  const value = config.getOptionalNumber(key);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw configError(
      `smoke.${key}`,
      `is ${value}; give a whole number from 1 to ${max}`,
    );
  }
  return value;
}

/** Platform defaults for the smoke inference, from `tensorflow.smoke`. */
export function readSmokeDefaults(root: Config): SmokeDefaults {
  const config = root.getOptionalConfig('tensorflow.smoke');
  if (!config) return {};
  const device = config.getOptionalString('device');
  if (device !== undefined && !['any', 'gpu', 'cpu'].includes(device)) {
    throw configError('smoke.device', `is "${device}"; use any, gpu or cpu`);
  }
  const budget = config.getOptionalNumber('latencyBudgetMs');
  if (budget !== undefined && !(budget > 0)) {
    throw configError(
      'smoke.latencyBudgetMs',
      `is ${budget}; give a positive number of milliseconds`,
    );
  }
  const runs = positiveInt(config, 'runs', 10000);
  const maxRuns = positiveInt(config, 'maxRuns', 10000);
  if (runs !== undefined && maxRuns !== undefined && runs > maxRuns) {
    throw configError(
      'smoke.runs',
      `(${runs}) is above smoke.maxRuns (${maxRuns})`,
    );
  }
  const limitsConfig = config.getOptionalConfig('limits');
  let limits: Partial<SmokeLimits> | undefined;
  if (limitsConfig) {
    limits = {};
    for (const key of limitsConfig.keys()) {
      if (!(LIMIT_KEYS as string[]).includes(key))
        throw configError(
          `smoke.limits.${key}`,
          `is not a known limit; use one of ${LIMIT_KEYS.join(', ')}`,
        );
    }
    for (const key of LIMIT_KEYS) {
      const value = limitsConfig.getOptional(key);
      if (value === undefined) continue;
      const problem = limitProblem(key, value);
      if (problem) throw configError(`smoke.limits.${key}`, problem);
      limits[key] = value as number;
    }
  }
  return {
    limits,
    device: device as SmokeDefaults['device'],
    runs,
    maxRuns,
    warmupRuns:
      config.getOptionalNumber('warmupRuns') === 0
        ? 0
        : positiveInt(config, 'warmupRuns', 1000),
    latencyBudgetMs: budget,
  };
}
