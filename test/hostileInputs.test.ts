/**
 * The bad-input corpus (audit issue, part 4): every action gets hostile and malformed
 * inputs; each must be refused with a clear error (InputError / NotAllowedError /
 * ConflictError naming the field and what to do) and no side effect: no file changed in
 * the sandbox (workspace, local model repositories, GitOps repository), no git ref moved,
 * no catalog write, no successful audit event, no GitHub request.
 *
 * The handler is called directly (the stricter test: it must defend itself); each case is
 * also checked against the action's JSON schema, which the scaffolder applies first, to
 * record which layer refuses it.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BAD_COUNTS,
  BAD_GRANTS,
  BAD_OWNERS,
  CATEGORIES,
  LOOKALIKES,
  METADATA_URLS,
  NOT_STRINGS,
  OVERSIZED,
  TEMPLATE,
  TRAVERSAL,
  cases,
  describeValue,
  schemaLayer,
  unclear,
  withField,
  type Category,
  type HostileCase,
} from './support/hostile';
import {
  catalogRegister,
  githubConfigure,
  identityProvision,
  modelCreate,
  modelValidate,
  repositoryPublish,
  sandboxDir,
  servingProvision,
  type HostileHarness,
} from './support/hostileActions';

jest.setTimeout(60_000);

const skeletonsDir = path.resolve(__dirname, '../skeletons');
const lookalikeOwners = LOOKALIKES.map(
  n =>
    `group:default/${n.replace('fraud-detector', 'ml-platform').replace('fraud-d\u0435tector', 'ml-pl\u0430tform')}`,
);

/** The corpus per action: which categories apply to which fields. */
/** modelUrl cases drop modelPath from the base input: the two are exclusive. */
const urlCase = (c: HostileCase): HostileCase =>
  c.field === 'modelUrl' ? { ...c, without: ['modelPath'] } : c;

const CORPUS: Record<string, HostileCase[]> = {
  'tensorflow:model:create': [
    ...cases(
      'template',
      [
        'skeleton',
        'targetPath',
        'name',
        'owner',
        'values.name',
        'values.owner',
      ],
      TEMPLATE,
    ),
    ...cases('traversal', ['skeleton', 'targetPath'], TRAVERSAL),
    ...cases(
      'oversized',
      ['skeleton', 'targetPath', 'name', 'owner', 'values.description'],
      [OVERSIZED],
    ),
    ...cases(
      'wrong-type',
      [
        'skeleton',
        'targetPath',
        'name',
        'owner',
        'values.name',
        'values.owner',
      ],
      NOT_STRINGS,
    ),
    ...cases('wrong-type', ['values'], [42, ['a'], 'name=x']),
    ...cases('wrong-type', ['overwrite'], ['yes', 1]),
    ...cases('unicode', ['name', 'targetPath'], LOOKALIKES),
    ...cases('unicode', ['owner'], lookalikeOwners),
    ...cases('owner-kind', ['owner'], BAD_OWNERS),
  ],
  'tensorflow:model:validate': [
    ...cases(
      'template',
      ['modelPath', 'reportPath', 'modelUrl', 'signatureName'],
      TEMPLATE,
    ),
    ...cases('traversal', ['modelPath', 'reportPath'], TRAVERSAL),
    ...cases(
      'traversal',
      ['reportPath'],
      TRAVERSAL.map(t => `${t}.json`),
    ),
    // http(s) ones pass the handler's scheme check and are refused by the UrlReader allow list
    ...cases(
      'metadata-url',
      ['modelUrl'],
      [
        ...METADATA_URLS.filter(u => u.startsWith('http')),
        'http://169.254.169.254/latest/meta-data/model.json',
      ],
      /^modelUrl: Reading from '.*' is not allowed.*backend\.reading\.allow/s,
    ),
    ...cases(
      'metadata-url',
      ['modelUrl'],
      METADATA_URLS.filter(u => !u.startsWith('http')),
    ),
    ...cases(
      'oversized',
      ['modelPath', 'reportPath', 'modelUrl', 'signatureName'],
      [OVERSIZED],
    ),
    ...cases(
      'wrong-type',
      [
        'modelPath',
        'reportPath',
        'modelUrl',
        'signatureName',
        'device',
        'format',
      ],
      NOT_STRINGS,
    ),
    ...cases('wrong-type', ['runs', 'warmupRuns', 'seed'], BAD_COUNTS),
    ...cases('wrong-type', ['inputs'], [42, 'features']),
    ...cases(
      'unicode',
      ['modelPath', 'reportPath'],
      LOOKALIKES.map(n => n.replace('fraud-detector', 'model')),
    ),
    ...cases(
      'unicode',
      ['modelUrl'],
      LOOKALIKES.map(n => `http://${n}.example.com/model.json`),
      /^modelUrl(: Reading from| .* contains control or invisible characters)/,
    ),
    ...cases('template', ['name', 'owner'], TEMPLATE),
    ...cases('wrong-type', ['name', 'owner'], NOT_STRINGS),
    ...cases('unicode', ['name'], LOOKALIKES),
    ...cases('owner-kind', ['owner'], BAD_OWNERS),
  ].map(urlCase),
  'tensorflow:repository:publish': [
    ...cases('template', ['repoUrl', 'sourcePath', 'defaultBranch'], TEMPLATE),
    ...cases(
      'template',
      ['repoUrl'],
      TEMPLATE.map(t => `local?repo=${t}`),
    ),
    ...cases('traversal', ['sourcePath', 'defaultBranch'], TRAVERSAL),
    ...cases(
      'traversal',
      ['repoUrl'],
      TRAVERSAL.map(t => `local?repo=${t}`),
    ),
    ...cases(
      'oversized',
      ['repoUrl', 'sourcePath', 'defaultBranch', 'gitCommitMessage'],
      [OVERSIZED],
    ),
    ...cases(
      'wrong-type',
      ['repoUrl', 'sourcePath', 'defaultBranch', 'gitCommitMessage'],
      NOT_STRINGS,
    ),
    ...cases(
      'unicode',
      ['repoUrl'],
      LOOKALIKES.map(n => `local?repo=${n}`),
    ),
    ...cases(
      'unicode',
      ['defaultBranch'],
      LOOKALIKES.map(n => n.replace('fraud-detector', 'main')),
    ),
    ...cases('template', ['name', 'owner'], TEMPLATE),
    ...cases('wrong-type', ['name', 'owner'], NOT_STRINGS),
    ...cases('unicode', ['name'], LOOKALIKES),
    ...cases('owner-kind', ['owner'], BAD_OWNERS),
  ],
  'tensorflow:github:configure': [
    ...cases(
      'template',
      ['repoUrl', 'name', 'owner', 'serviceAccount', 'endpoint', 'rulesetName'],
      TEMPLATE,
    ),
    ...cases(
      'template',
      ['environments'],
      TEMPLATE.map(t => [t]),
    ),
    ...cases(
      'template',
      ['teamSlugs'],
      TEMPLATE.map(t => ({ 'group:default/ml-platform': t })),
      'teamSlugs',
    ),
    ...cases('traversal', ['name', 'rulesetName'], TRAVERSAL),
    ...cases(
      'traversal',
      ['repoUrl'],
      TRAVERSAL.map(t => `github.com?owner=acme&repo=${t}`),
    ),
    ...cases(
      'traversal',
      ['environments'],
      TRAVERSAL.map(t => [t]),
    ),
    ...cases(
      'oversized',
      ['repoUrl', 'name', 'owner', 'serviceAccount', 'endpoint', 'rulesetName'],
      [OVERSIZED],
    ),
    ...cases('oversized', ['environments'], [[OVERSIZED]]),
    ...cases(
      'wrong-type',
      ['repoUrl', 'name', 'owner', 'serviceAccount', 'endpoint', 'rulesetName'],
      NOT_STRINGS,
    ),
    ...cases(
      'wrong-type',
      ['environments'],
      ['staging', [42], { staging: true }],
    ),
    ...cases('wrong-type', ['teamSlugs'], [42, ['ml-platform']]),
    ...cases('wrong-type', ['ciTrust'], [42, 'aws:role', { ref: 'aws:x' }]),
    ...cases('unicode', ['name'], LOOKALIKES),
    ...cases('unicode', ['owner'], lookalikeOwners),
    ...cases(
      'unicode',
      ['environments'],
      LOOKALIKES.map(n => [n.replace('fraud-detector', 'staging')]),
    ),
    ...cases(
      'unicode',
      ['repoUrl'],
      LOOKALIKES.map(n => `github.com?owner=acme&repo=${n}`),
    ),
    ...cases('owner-kind', ['owner'], BAD_OWNERS),
    ...cases('grants', ['grants'], BAD_GRANTS),
  ],
  'tensorflow:identity:provision': [
    ...cases(
      'template',
      ['name', 'owner', 'repository.owner', 'repository.name'],
      TEMPLATE,
    ),
    ...cases(
      'traversal',
      ['name', 'repository.owner', 'repository.name'],
      TRAVERSAL,
    ),
    ...cases(
      'oversized',
      ['name', 'owner', 'repository.owner', 'repository.name'],
      [OVERSIZED],
    ),
    ...cases(
      'wrong-type',
      ['name', 'owner', 'repository.owner', 'repository.name'],
      NOT_STRINGS,
    ),
    ...cases('wrong-type', ['repository'], [42, 'acme/fraud-detector']),
    ...cases(
      'wrong-type',
      ['repository.id', 'repository.ownerId'],
      BAD_COUNTS.filter(v => v !== '3'),
    ),
    ...cases('unicode', ['name', 'repository.name'], LOOKALIKES),
    ...cases('unicode', ['owner'], lookalikeOwners),
    ...cases('owner-kind', ['owner'], BAD_OWNERS),
    ...cases('grants', ['grants'], BAD_GRANTS),
  ],
  'tensorflow:serving:provision': [
    ...cases(
      'template',
      ['name', 'owner', 'environment', 'cpu', 'memory', 'storageUri'],
      TEMPLATE,
    ),
    ...cases('traversal', ['name', 'environment', 'storageUri'], TRAVERSAL),
    ...cases(
      'traversal',
      ['storageUri'],
      [
        'pvc://models/../../etc',
        'pvc://models/%2e%2e/x',
        'pvc://models/..\\..',
      ],
    ),
    ...cases('metadata-url', ['storageUri'], METADATA_URLS),
    ...cases(
      'oversized',
      ['name', 'owner', 'environment', 'cpu', 'memory', 'storageUri'],
      [OVERSIZED],
    ),
    ...cases(
      'wrong-type',
      ['name', 'owner', 'environment', 'cpu', 'memory', 'storageUri'],
      NOT_STRINGS,
    ),
    ...cases('wrong-type', ['replicas', 'gpus', 'latestVersions'], BAD_COUNTS),
    ...cases('wrong-type', ['size', 'versionPolicy'], [42, 'huge']),
    ...cases('wrong-type', ['batching'], ['on', 42]),
    ...cases(
      'wrong-type',
      ['versionLabels'],
      [{ stable: -1 }, { stable: 'x' }, 'stable'],
    ),
    ...cases('unicode', ['name'], LOOKALIKES),
    ...cases('unicode', ['owner'], lookalikeOwners),
    ...cases(
      'unicode',
      ['environment'],
      LOOKALIKES.map(n => n.replace('fraud-detector', 'dev')),
    ),
    ...cases('owner-kind', ['owner'], BAD_OWNERS),
    ...cases('grants', ['grants'], BAD_GRANTS),
  ],
  'tensorflow:catalog:register': [
    ...cases(
      'template',
      [
        'name',
        'owner',
        'system',
        'lifecycle',
        'repoUrl',
        'repoContentsUrl',
        'serving.restUrl',
        'serving.namespace',
      ],
      TEMPLATE,
    ),
    ...cases(
      'traversal',
      ['name', 'system', 'lifecycle', 'serving.namespace'],
      TRAVERSAL,
    ),
    ...cases(
      'traversal',
      ['repoUrl'],
      TRAVERSAL.map(t => `local?repo=${t}`),
    ),
    ...cases(
      'oversized',
      [
        'name',
        'owner',
        'description',
        'system',
        'lifecycle',
        'repoUrl',
        'repoContentsUrl',
        'serving.restUrl',
        'serving.grpcUrl',
        'identity.serviceAccount',
      ],
      [OVERSIZED],
    ),
    ...cases(
      'wrong-type',
      [
        'name',
        'owner',
        'description',
        'system',
        'lifecycle',
        'repoUrl',
        'repoContentsUrl',
      ],
      NOT_STRINGS,
    ),
    ...cases('wrong-type', ['serving', 'identity', 'model'], [42, 'x']),
    ...cases('wrong-type', ['model.signature', 'model.smoke'], [42, 'x']),
    ...cases('wrong-type', ['identity.grants'], [42, ['predict']]),
    ...cases('unicode', ['name', 'system', 'lifecycle'], LOOKALIKES),
    ...cases('unicode', ['owner'], lookalikeOwners),
    ...cases('owner-kind', ['owner'], BAD_OWNERS),
    ...cases('grants', ['identity.grants'], BAD_GRANTS),
  ],
};

type Row = {
  action: string;
  category: Category;
  field: string;
  value: string;
  layer: 'schema' | 'handler';
};
const results: Row[] = [];
const harnesses = new Map<string, HostileHarness>();
const sandboxes: string[] = [];

beforeAll(async () => {
  const box = (id: string) => {
    const d = sandboxDir(id);
    sandboxes.push(d);
    return d;
  };
  for (const h of [
    modelCreate(box('create'), skeletonsDir),
    modelValidate(box('validate')),
    await repositoryPublish(box('publish')),
    githubConfigure(box('configure')),
    identityProvision(box('identity')),
    servingProvision(box('serving')),
    await catalogRegister(box('catalog')),
  ]) {
    harnesses.set(h.id, h);
  }
});

afterAll(() => {
  for (const d of sandboxes) fs.rmSync(d, { recursive: true, force: true });
  // categories x actions: cases, and how many of them the JSON schema already refuses
  const header = [
    'category',
    ...Object.keys(CORPUS).map(a => a.replace('tensorflow:', '')),
  ];
  const lines = [header.join(' | ')];
  for (const c of CATEGORIES) {
    lines.push(
      [
        c,
        ...Object.keys(CORPUS).map(a => {
          const rows = results.filter(r => r.action === a && r.category === c);
          return rows.length
            ? `${rows.length} (schema ${rows.filter(r => r.layer === 'schema').length})`
            : '-';
        }),
      ].join(' | '),
    );
  }
  if (process.env.HOSTILE_REPORT)
    fs.writeFileSync(process.env.HOSTILE_REPORT, `${lines.join('\n')}\n`);
});

/** What a dry run of an action's base input gives: no error, except for configure. */
function baseDryRunOutcome(actionId: string): object {
  if (actionId === 'tensorflow:github:configure') {
    // dry run still reads GitHub: the base input gets as far as the first request
    return {
      error: expect.objectContaining({
        message: expect.stringMatching(/GitHub was called with bad input: GET/),
      }),
      githubRequests: 1,
    };
  }
  return { error: undefined };
}

describe.each(Object.keys(CORPUS))('%s', actionId => {
  it('accepts the base input the cases start from (so each refusal is down to the hostile field)', async () => {
    const h = harnesses.get(actionId)!;
    const { error, effects } = await h.run(h.base, { isDryRun: true });
    expect({
      error,
      githubRequests: effects.githubRequests.length,
    }).toMatchObject(baseDryRunOutcome(actionId));
  });

  it.each(
    CORPUS[actionId].map(
      c => [c.category, c.field, describeValue(c.value), c] as const,
    ),
  )(
    '%s: %s = %s is refused cleanly, with no side effect',
    async (_category, _field, _shown, c) => {
      const h = harnesses.get(actionId)!;
      const input = withField(h.base, c.field, c.value);
      for (const k of c.without ?? []) delete input[k];
      const layer = schemaLayer(h.action.schema?.input, input);
      const { error, effects } = await h.run(input);
      expect(error).toBeDefined();
      expect(unclear(error, c.names ?? c.field)).toBeUndefined();
      expect(effects).toEqual({
        files: [],
        refs: [],
        catalogWrites: 0,
        auditSuccesses: 0,
        auditEvents: 0,
        githubRequests: [],
      });
      results.push({
        action: actionId,
        category: c.category,
        field: c.field,
        value: describeValue(c.value),
        layer,
      });
    },
  );
});
