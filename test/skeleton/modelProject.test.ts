import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import {
  MODEL_CARD_DOCS_PATH,
  MODEL_CARD_FILE,
} from '../../actions/catalog/entities';
import {
  renderSkeleton,
  type RenderedFile,
} from '../../actions/model/skeleton';

const repoRoot = path.resolve(__dirname, '../..');
const skeletonDir = path.join(repoRoot, 'skeletons/model-project');
const sampleValues = {
  name: 'fraud-detector',
  description:
    'Scores card transactions: "quotes", colons: and #hashes stay data',
  owner: 'group:default/ml-platform',
  system: '',
  lifecycle: 'experimental',
  gpuRunnerLabel: 'gpu-a100',
  // what tensorflow:model:create injects for GKE with gs:// storage (actions/identity/ciContract.ts)
  ci: { gcp: true, aws: false, deploy: true, cloud: 'gcp' },
};
const WORKFLOW = '.github/workflows/model.yaml';

let files: RenderedFile[];
const text = (p: string) => {
  const f = files.find(x => x.path === p);
  if (!f)
    throw new Error(
      `${p} not rendered; got ${files.map(x => x.path).join(', ')}`,
    );
  return f.content.toString('utf8');
};

beforeAll(async () => {
  // the real renderer the tensorflow:model:create action uses
  files = await renderSkeleton(skeletonDir, sampleValues);
});

describe('model-project skeleton', () => {
  it('renders every YAML file to valid YAML', () => {
    const yamlFiles = files.filter(f => /\.ya?ml$/.test(f.path));
    expect(yamlFiles.map(f => f.path)).toEqual(
      expect.arrayContaining([WORKFLOW, 'catalog-info.yaml', 'mkdocs.yml']),
    );
    for (const f of yamlFiles) {
      for (const doc of parseAllDocuments(f.content.toString('utf8'))) {
        expect({
          file: f.path,
          errors: doc.errors.map(e => e.message),
        }).toEqual({ file: f.path, errors: [] });
      }
    }
  });

  it('publishes the model card with the project docs, at the page the model Resource points TechDocs to', () => {
    const mkdocs = parseYaml(text('mkdocs.yml'));
    const nav = (mkdocs.nav as Array<Record<string, string>>).map(
      item => Object.values(item)[0],
    );
    expect(nav).toEqual(['index.md', 'model-card.md']);
    // every nav page is rendered under docs/ (MkDocs' docs_dir)
    for (const page of nav)
      expect(text(`docs/${page}`).length).toBeGreaterThan(0);
    expect(text(MODEL_CARD_FILE)).toMatch(/^# Model card: fraud-detector/);
    // MkDocs' directory URLs: docs/model-card.md is served at /model-card/
    expect(MODEL_CARD_DOCS_PATH).toBe(
      `/${path.basename(MODEL_CARD_FILE, '.md')}/`,
    );
    expect(files.map(f => f.path)).not.toContain('MODEL_CARD.md');
  });

  it('renders a workflow that validates against the GitHub Actions workflow schema (SchemaStore)', () => {
    const schema = JSON.parse(
      fs.readFileSync(
        path.join(repoRoot, 'test/fixtures/schemas/github-workflow.json'),
        'utf8',
      ),
    );
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const workflow = parseYaml(text(WORKFLOW));
    const ok = validate(workflow);
    expect(ajv.errorsText(validate.errors)).toBe('No errors');
    expect(ok).toBe(true);
    // and the schema is not a pushover: a broken workflow is rejected
    expect(
      validate({
        ...workflow,
        jobs: {
          train: { ...workflow.jobs.train, 'runs-on': undefined, steps: 'x' },
        },
      }),
    ).toBe(false);
  });

  it('keeps GitHub ${{ }} expressions and passes values as data', () => {
    const workflow = parseYaml(text(WORKFLOW));
    expect(workflow.name).toBe('fraud-detector');
    expect(workflow.env.MODEL_NAME).toBe('fraud-detector');
    expect(workflow.concurrency.group).toBe('model-${{ github.ref }}');
    expect(workflow.jobs.smoke['runs-on']).toEqual(['self-hosted', 'gpu-a100']);
    expect(text(WORKFLOW)).not.toMatch(
      /\\\{\{|\{\{(?!\s*(github|vars|steps)\.)/,
    );
  });

  it('trains on push with pinned requirements, smoke-tests on the GPU runner, deploys staging then production', () => {
    const workflow = parseYaml(text(WORKFLOW));
    expect(Object.keys(workflow.on)).toContain('push');
    const runs = (job: string) =>
      workflow.jobs[job].steps.map((s: any) => s.run ?? '').join('\n');
    expect(runs('train')).toContain('pip install -r requirements.txt');
    expect(runs('train')).toContain('python src/train.py');
    for (const line of text('requirements.txt').trim().split('\n'))
      expect(line).toMatch(/^[\w.-]+==[\w.]+$/);
    expect(runs('smoke')).toMatch(
      /\.github\/smoke\/node_modules\/\.bin\/tf-smoke model\/ .*--json/,
    );
    expect(workflow.jobs['deploy-staging'].environment).toBe('staging');
    expect(workflow.jobs['deploy-production'].environment).toBe('production');
    expect(workflow.jobs['deploy-production'].needs).toBe('deploy-staging');
  });

  it('installs the smoke CLI (this package and version) with npm ci from a committed lockfile', () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
    );
    const smoke = JSON.parse(text('.github/smoke/package.json'));
    const lock = JSON.parse(text('.github/smoke/package-lock.json'));
    expect(smoke.dependencies).toEqual({
      [pkg.name]: pkg.version,
      '@tensorflow/tfjs-node-gpu': '4.22.0',
    });
    expect(lock.packages[''].dependencies).toEqual(smoke.dependencies);
    for (const [name, version] of Object.entries<string>(smoke.dependencies)) {
      expect(lock.packages[`node_modules/${name}`]).toMatchObject({
        version,
        integrity: expect.stringMatching(/^sha512-/),
      });
    }
    for (const [key, entry] of Object.entries<any>(lock.packages).filter(
      ([k]) => k,
    ))
      expect({
        key,
        file: String(entry.resolved ?? '').startsWith('file:'),
      }).toEqual({ key, file: false });
    const runs = parseYaml(text(WORKFLOW))
      .jobs.smoke.steps.map((s: any) => s.run ?? '')
      .join('\n');
    expect(runs).toContain('npm ci --prefix .github/smoke');
    expect(runs).not.toMatch(/npm install|--no-package-lock/);
  });

  it('deploys through OIDC: id-token: write, role and provider from vars, no secrets anywhere', () => {
    const workflow = parseYaml(text(WORKFLOW));
    for (const job of ['deploy-staging', 'deploy-production']) {
      expect(workflow.jobs[job].permissions).toEqual({
        contents: 'read',
        'id-token': 'write',
      });
      const auth = workflow.jobs[job].steps.find((s: any) =>
        String(s.uses).startsWith('google-github-actions/auth@'),
      );
      expect(auth.with).toEqual({
        workload_identity_provider:
          '${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}',
        service_account: '${{ vars.GCP_SERVICE_ACCOUNT }}',
      });
      expect(workflow.jobs[job].steps.at(-1).env).toEqual({
        TARGET: '${{ vars.MODEL_STORAGE_URI }}',
      });
    }
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const f of files)
      expect({
        file: f.path,
        secrets: /secrets\./.test(f.content.toString('latin1')),
      }).toEqual({ file: f.path, secrets: false });
  });

  it('pins every action by full commit SHA with the version in a comment', () => {
    const lines = text(WORKFLOW)
      .split('\n')
      .filter(l => /^\s*(-\s+)?uses:/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const line of lines)
      expect(line).toMatch(
        /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/,
      );
  });

  it('falls back to the "gpu" runner label when no gpuRunnerLabel is given', async () => {
    const { gpuRunnerLabel: _omitted, ...rest } = sampleValues;
    const rendered = await renderSkeleton(skeletonDir, rest);
    const wf = parseYaml(
      rendered.find(f => f.path === WORKFLOW)!.content.toString('utf8'),
    );
    expect(wf.jobs.smoke['runs-on']).toEqual(['self-hosted', 'gpu']);
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  (python ? it : it.skip)(
    `compiles the rendered Python files${python ? '' : ' (skipped: python3 not installed)'}`,
    () => {
      /* eslint-disable jest/no-standalone-expect -- the test is it or it.skip, chosen at run time; the rule cannot follow that */
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skeleton-py-'));
      const pyFiles = files.filter(f => f.path.endsWith('.py'));
      expect(pyFiles.map(f => f.path)).toContain('src/train.py');
      for (const f of pyFiles) {
        const target = path.join(dir, f.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, f.content);
        const result = spawnSync('python3', ['-m', 'py_compile', target], {
          encoding: 'utf8',
          env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
        });
        expect({
          file: f.path,
          status: result.status,
          stderr: result.stderr,
        }).toEqual({ file: f.path, status: 0, stderr: '' });
      }
      /* eslint-enable jest/no-standalone-expect */
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
});
