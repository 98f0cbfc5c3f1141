import { DEFAULT_ACCESS_POLICY } from '../access/config';
import { readGatewayConfig } from '../gateway';
/**
 * The self-service template templates/provision-endpoint/template.yaml: its serving step,
 * rendered the way the scaffolder renders it (nunjitsu, as NunjucksWorkflowRunner does),
 * must pass the action's JSON Schema and run (dry run) for both sizing modes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { parse } from 'yaml';
import { validate } from 'jsonschema';
import { LocalGitOpsTarget } from '../gitops/local';
import { packageRoot } from '../shared/paths';
import { readServingConfig } from './config';
import { createServingProvisionAction } from './provision';
import { testProjectAccess } from '../../test/support/access/project';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const nunjitsu = require('nunjitsu');

const file = path.join(
  packageRoot(),
  'templates/provision-endpoint/template.yaml',
);
const text = fs.readFileSync(file, 'utf8');
const template = parse(text);

function render(input: unknown, context: object) {
  const renderer = nunjitsu.createTemplateRenderer({
    allowRegexExecution: true,
    filters: {},
  });
  return JSON.parse(JSON.stringify(input), (_key, value) =>
    typeof value === 'string' ? renderer.renderValue(value, context) : value,
  );
}

describe('templates/provision-endpoint', () => {
  const serving = readServingConfig(new ConfigReader({}));
  const action = createServingProvisionAction({
    gitops: new LocalGitOpsTarget({ path: '/nonexistent/never-written' }),
    serving,
    naming: { namespacePrefix: 'ml-' },
    auditor: mockServices.auditor.mock(),
    access: DEFAULT_ACCESS_POLICY,
    gateway: readGatewayConfig(new ConfigReader({})),
    projectAccess: testProjectAccess(),
  });
  const entity = {
    metadata: {
      name: 'fraud-detector-model',
      annotations: {
        'tensorflow.ml-platform.io/model-name': 'fraud-detector',
        'tensorflow.ml-platform.io/repo-url': 'local?repo=fraud-detector',
      },
    },
    spec: { owner: 'group:default/ml-platform', type: 'ai-model' },
  };

  it('is a v1beta3 template picking ai-model Resources, then the serving action', () => {
    expect(template.apiVersion).toBe('scaffolder.backstage.io/v1beta3');
    expect(template.kind).toBe('Template');
    expect(
      template.spec.parameters[0].properties.model['ui:options'].catalogFilter,
    ).toEqual({ kind: 'Resource', 'spec.type': 'ai-model' });
    expect(template.spec.steps.map((s: any) => s.action)).toEqual([
      'catalog:fetch',
      'tensorflow:identity:provision',
      'tensorflow:serving:provision',
      'tensorflow:catalog:register',
    ]);
    const sizes =
      template.spec.parameters[2].dependencies.sizing.oneOf[0].properties.size
        .enum;
    expect(sizes).toEqual(Object.keys(serving.sizes));
  });

  it('never puts ${{ }} inside a YAML flow mapping', () => {
    const templated = text
      .split('\n')
      .filter(line => !line.trim().startsWith('#') && line.includes('${{'));
    for (const line of templated) {
      const outside = line.replace(/\$\{\{.*?\}\}/g, '');
      expect(outside).not.toMatch(/[{}]/);
    }
  });

  it.each([
    [
      'preset',
      { sizing: 'preset', size: 'large', batching: false },
      { replicas: 2, gpus: 1 },
    ],
    [
      'custom',
      { sizing: 'custom', replicas: 3, gpus: 0, batching: true },
      { replicas: 3, gpus: 0 },
    ],
    // the form keeps the values of a branch the person left; only the chosen branch may reach the action
    [
      'preset after trying custom',
      {
        sizing: 'preset',
        size: 'small',
        replicas: 4,
        gpus: 1,
        batching: false,
      },
      { replicas: 1, gpus: 0 },
    ],
    [
      'custom after trying a preset',
      {
        sizing: 'custom',
        size: 'large',
        replicas: 3,
        gpus: 0,
        batching: false,
      },
      { replicas: 3, gpus: 0 },
    ],
  ])(
    'renders valid action input for %s sizing and runs it (dry run)',
    async (_mode, params, expected) => {
      const step = template.spec.steps.find((s: any) => s.id === 'serving');
      const context = {
        parameters: {
          model: 'resource:default/fraud-detector-model',
          environment: 'staging',
          ...params,
        },
        steps: { 'fetch-model': { output: { entity } } },
      };
      const input = render(step.input, context);
      const result = validate(input, action.schema!.input as any);
      expect(result.errors.map(e => e.stack)).toEqual([]);
      const outputs: Record<string, any> = {};
      await action.handler({
        ...createMockActionContext({
          input,
          user: { ref: 'user:default/alice' },
        }),
        isDryRun: true,
        output: (k: string, v: unknown) => (outputs[k] = v),
      } as any);
      expect(outputs.namespace).toBe('ml-fraud-detector');
      const deployment = parse(
        outputs.manifests.find((m: any) => m.path.includes('deployment-'))
          .content,
      );
      expect(deployment.spec.replicas).toBe(expected.replicas);
      const limits =
        deployment.spec.template.spec.containers[0].resources.limits;
      expect(limits['nvidia.com/gpu'] ?? '0').toBe(String(expected.gpus));
      expect(
        deployment.spec.template.spec.containers[0].args.includes(
          '--enable_batching=true',
        ),
      ).toBe(params.batching);
    },
  );
});
