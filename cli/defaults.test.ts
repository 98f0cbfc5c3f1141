import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import {
  applyParameterDefaults,
  missingRequired,
  type JsonSchema,
} from './defaults';

const steps = (template: string): JsonSchema[] =>
  yaml.parse(
    fs.readFileSync(
      path.resolve(__dirname, '../templates', template, 'template.yaml'),
      'utf8',
    ),
  ).spec.parameters;

describe('template parameter defaults (as the form fills them in)', () => {
  it('fills top-level defaults and the defaults of the branch a default selects', () => {
    const { values, filled } = applyParameterDefaults(
      steps('provision-endpoint'),
      { model: 'resource:default/m' },
    );
    expect(values).toEqual({
      model: 'resource:default/m',
      environment: 'development',
      grants: [],
      sizing: 'preset',
      batching: false,
      size: 'small',
    });
    expect(filled.map(f => f.path)).toEqual([
      'environment',
      'grants',
      'batching',
      'sizing',
      'size',
    ]);
    expect(missingRequired(steps('provision-endpoint'), values)).toEqual([]);
  });

  it('follows the branch the user chose, never replacing a given value', () => {
    const { values } = applyParameterDefaults(steps('provision-endpoint'), {
      model: 'm',
      sizing: 'custom',
      replicas: 3,
    });
    expect(values).toMatchObject({ sizing: 'custom', replicas: 3, gpus: 0 });
    expect(values).not.toHaveProperty('size');
  });

  it('reports required parameters that have no default, including those of the selected branch', () => {
    // the model picker is not required in the form (so it stays changeable); the owner and name of create-model are
    expect(
      missingRequired(
        steps('provision-endpoint'),
        applyParameterDefaults(steps('provision-endpoint'), {}).values,
      ),
    ).toEqual([]);
    expect(
      missingRequired(
        steps('create-model'),
        applyParameterDefaults(steps('create-model'), {}).values,
      ),
    ).toEqual(expect.arrayContaining(['name', 'owner']));
    const existing = applyParameterDefaults(steps('create-model'), {
      name: 'x',
      description: 'd',
      owner: 'group:default/risk',
      modelSource: 'existing',
    }).values;
    expect(missingRequired(steps('create-model'), existing)).toEqual([
      'modelUrl',
    ]);
  });

  it('fills every page of create-model, leaving optional fields without defaults out', () => {
    const { values } = applyParameterDefaults(steps('create-model'), {
      name: 'x',
      description: 'd',
      owner: 'group:default/risk',
    });
    expect(values).toMatchObject({
      lifecycle: 'experimental',
      modelSource: 'starter',
      device: 'any',
      runs: 20,
      sizing: 'preset',
      size: 'small',
      grants: [],
      gpuRunnerLabel: 'gpu',
    });
    expect(values).not.toHaveProperty('system');
    expect(values).not.toHaveProperty('latencyBudgetMs');
    expect(values).not.toHaveProperty('replicas');
  });

  it('fills nested object defaults and keeps defaults from being shared between runs', () => {
    const schema: JsonSchema = {
      properties: {
        resources: {
          type: 'object',
          properties: { cpu: { default: '1' }, tags: { default: [] } },
        },
      },
    };
    const a = applyParameterDefaults([schema], {});
    expect(a.values).toEqual({ resources: { cpu: '1', tags: [] } });
    expect(a.filled).toEqual([
      { path: 'resources.cpu', value: '1' },
      { path: 'resources.tags', value: [] },
    ]);
    (a.values.resources as any).tags.push('x');
    expect(applyParameterDefaults([schema], {}).values).toEqual({
      resources: { cpu: '1', tags: [] },
    });
  });
});
