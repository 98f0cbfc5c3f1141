import path from 'node:path';
import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import type { ProjectNamingOptions } from './naming';

/** Fails backend start-up with the offending key named. */
export function configError(key: string, problem: string): Error {
  return new InputError(`Invalid app-config: tensorflow.${key} ${problem}`);
}

export function readNamingOptions(config: Config): ProjectNamingOptions {
  const tf = config.getOptionalConfig('tensorflow');
  const namespacePrefix = tf?.getOptionalString('namespacePrefix') ?? 'ml-';
  if (namespacePrefix !== '' && !/^[a-z0-9]([-a-z0-9]*)?$/.test(namespacePrefix)) {
    throw configError('namespacePrefix', `"${namespacePrefix}" must be lowercase letters, digits and "-", starting with a letter or digit`);
  }
  if (namespacePrefix.length > 40) {
    throw configError('namespacePrefix', `"${namespacePrefix}" is longer than 40 characters; leave room for project names`);
  }
  const ownerKinds = tf?.getOptionalStringArray('ownerKinds') ?? ['group'];
  for (const kind of ownerKinds) {
    if (kind !== 'group' && kind !== 'user') {
      throw configError('ownerKinds', `contains "${kind}"; allowed kinds are "group" and "user"`);
    }
  }
  return { namespacePrefix, ownerKinds };
}

export function readLocalRepositoryRoot(config: Config): string {
  const root = config.getOptionalString('tensorflow.repositories.localRoot') ?? '.data/repos';
  return path.resolve(root);
}
