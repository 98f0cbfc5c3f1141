import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startTestBackend, mockServices } from '@backstage/backend-test-utils';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { repoRoot } from './support/backend';

/**
 * What `npm pack` ships is what a Backstage backend loads: the built module (npm test builds
 * it first), the skeletons, the templates and the config schema.
 */
describe('the packed package', () => {
  const distIndex = path.join(repoRoot, 'dist/actions/index.js');

  it('contains the built module, bins, skeletons, templates and config schema', () => {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json'], {
        cwd: repoRoot,
        encoding: 'utf8',
      }),
    );
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/actions/index.js',
        'dist/actions/index.d.ts',
        'dist/smoke/cli.js',
        'dist/cli/createModel.js',
        'config.d.ts',
        'templates/create-model/template.yaml',
        'templates/provision-endpoint/template.yaml',
        'skeletons/model-project/catalog-info.yaml.hbs',
        'skeletons/model-project/.gitignore.hbs',
        'skeletons/model-project/model/weights.bin',
      ]),
    );
    expect(
      files.filter(f => /\.test\.|test\.fixtures|\/testing\//.test(f)),
    ).toEqual([]);
    // every shipped script is built from a product source (actions/, smoke/, cli/): no test support,
    // bench or tools code, and no leftover of a moved file
    const built = files.filter(f => f.startsWith('dist/') && f.endsWith('.js'));
    expect(built.length).toBeGreaterThan(50);
    const withoutSource = built.filter(f => {
      const source = f.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      return (
        !/^(actions|smoke|cli)\//.test(source) ||
        !fs.existsSync(path.join(repoRoot, source))
      );
    });
    expect(withoutSource).toEqual([]);
    // the dev frontend (dev/app workspace) and the README screenshots stay out of the package
    expect(
      files.filter(
        f =>
          f.startsWith('dev/') ||
          f.startsWith('docs/images/') ||
          f.startsWith('test/'),
      ),
    ).toEqual([]);
    const pkg = JSON.parse(
      fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
    );
    for (const bin of Object.values(pkg.bin) as string[])
      expect(files).toContain(bin);
    expect(pkg.backstage.role).toBe('backend-plugin-module');
  });

  it("loading the built module loads no TensorFlow, manifest validators, Octokit plugins, Handlebars or step builders (each loads on first use; Backstage's integration package loads Octokit itself)", () => {
    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(distIndex)});
         const heavy = ['@tensorflow', 'kubernetes-models', '@kubernetes-models', '@octokit/plugin-retry', '@octokit/plugin-throttling', 'handlebars'];
         // and the steps' own builders: each action loads them on its first run
         const ownSteps = ['smoke/engine.js', 'actions/serving/manifests.js', 'actions/identity/manifests.js', 'actions/github/configureSteps.js', 'actions/model/fetchModel.js'];
         const loaded = Object.keys(require.cache);
         process.stdout.write(JSON.stringify([
           ...heavy.filter(h => loaded.some(k => k.includes('/node_modules/' + h))),
           ...ownSteps.filter(f => loaded.some(k => k.endsWith('/dist/' + f))),
         ]))`,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(loaded)).toEqual([]);
  });

  it('loads in a Backstage backend from dist/ and registers every action', async () => {
    expect(fs.existsSync(distIndex)).toBe(true);
    const feature = require(distIndex).default;
    const ids: string[] = [];
    await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          { addActions: (...a: any[]) => ids.push(...a.map(x => x.id)) },
        ],
      ],
      features: [
        feature,
        catalogServiceMock.factory(),
        mockServices.rootConfig.factory({ data: {} }),
      ],
    });
    expect(ids.sort()).toEqual([
      'tensorflow:catalog:register',
      'tensorflow:github:configure',
      'tensorflow:identity:provision',
      'tensorflow:model:create',
      'tensorflow:model:validate',
      'tensorflow:repository:publish',
      'tensorflow:serving:provision',
    ]);
  });
});
