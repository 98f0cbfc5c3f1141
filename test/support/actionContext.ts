import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { mockServices } from '@backstage/backend-test-utils';

/** A fresh workspace folder for one test. */
export function makeWorkspace(prefix = 'tf-action-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A mock action context that keeps what `createMockActionContext` drops (isDryRun,
 * checkpoint, output, signal) and records outputs and checkpoints for assertions.
 */
export function actionContext<TInput extends Record<string, any>>(
  input: TInput,
  options: {
    workspacePath?: string;
    isDryRun?: boolean;
    userRef?: string;
    secrets?: Record<string, string>;
    checkpoints?: Map<string, unknown>;
    signal?: AbortSignal;
  } = {},
) {
  const workspacePath = options.workspacePath ?? makeWorkspace();
  const outputs: Record<string, unknown> = {};
  const checkpoints = options.checkpoints ?? new Map<string, unknown>();
  const base = createMockActionContext({
    input,
    workspacePath,
    secrets: options.secrets,
    user: { ref: options.userRef ?? 'user:default/jdoe' },
    task: { id: 'task-1234' },
    templateInfo: { entityRef: 'template:default/create-model' },
  });
  const ctx = {
    ...base,
    isDryRun: options.isDryRun ?? false,
    signal: options.signal,
    output: jest.fn((name: string, value: unknown) => {
      outputs[name] = value;
    }),
    async checkpoint<T>({
      key,
      fn,
    }: {
      key: string;
      fn: () => Promise<T> | T;
    }): Promise<T> {
      if (checkpoints.has(key)) return checkpoints.get(key) as T;
      const value = await fn();
      checkpoints.set(key, value);
      return value;
    },
  };
  return { ctx, outputs, checkpoints, workspacePath };
}

export function mockAuditor() {
  return mockServices.auditor.mock();
}
