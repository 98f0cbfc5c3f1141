import {
  buildProvisioningRecord,
  serialiseProvisioningRecord,
  withoutCredentials,
  type ProvisioningRecordInput,
} from './provisioning';

const base: ProvisioningRecordInput = {
  project: {
    name: 'fraud-detector',
    owner: 'group:default/ml-platform',
    namespace: 'ml-fraud-detector',
  },
  initiator: 'user:default/jdoe',
  taskId: 't-1',
  taskUrl: 'http://localhost:3000/create/tasks/t-1',
  provisionedAt: '2026-01-02T03:04:05.000Z',
  repoUrl: 'local?repo=fraud-detector',
  entityRefs: [
    'resource:default/fraud-detector-model',
    'component:default/fraud-detector',
  ],
  catalogLocation: 'file:/repos/fraud-detector/catalog-info.yaml',
  identity: {
    serviceAccount: 'ml-fraud-detector/fraud-detector-serving-sa',
    grants: {
      'group:default/risk': ['predict', 'predict'],
      'group:default/ml-platform': ['read-metadata', 'predict'],
    },
    identities: { provider: 'none', resources: ['b', 'a'] },
    gitops: {
      branch: 'model/fraud-detector',
      commit: 'abc1234',
      url: 'file:///gitops#model/fraud-detector',
    },
  },
  serving: {
    namespace: 'ml-fraud-detector',
    restUrl: 'https://svc:s3cret@fraud.example/v1/models/fraud-detector',
    gitops: { branch: 'model/fraud-detector', commit: 'def5678' },
  },
};

describe('provisioning record', () => {
  it('records who, when, which task, identities, scopes, endpoint and GitOps change', () => {
    const r = buildProvisioningRecord(base) as any;
    expect(r).toMatchObject({
      version: 1,
      provisionedBy: 'user:default/jdoe',
      provisionedAt: '2026-01-02T03:04:05.000Z',
      task: { id: 't-1', url: 'http://localhost:3000/create/tasks/t-1' },
      identity: {
        serviceAccount: 'ml-fraud-detector/fraud-detector-serving-sa',
        grants: {
          'group:default/ml-platform': ['predict', 'read-metadata'],
          'group:default/risk': ['predict'],
        },
        workloadIdentity: { provider: 'none', resources: ['a', 'b'] },
        gitops: { commit: 'abc1234' },
      },
      serving: {
        namespace: 'ml-fraud-detector',
        gitops: { commit: 'def5678', branch: 'model/fraud-detector' },
      },
      catalog: {
        entityRefs: [
          'component:default/fraud-detector',
          'resource:default/fraud-detector-model',
        ],
      },
    });
  });

  it('is byte-identical for the same values whatever the key order, with sorted keys at every level', () => {
    const reordered: ProvisioningRecordInput = {
      ...base,
      identity: {
        ...base.identity!,
        grants: {
          'group:default/ml-platform': ['predict', 'read-metadata'],
          'group:default/risk': ['predict'],
        },
      },
    };
    const text = serialiseProvisioningRecord(base);
    expect(serialiseProvisioningRecord(reordered)).toBe(text);
    // every object, at every depth, has its keys sorted
    const objects: object[] = [];
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') {
        objects.push(v);
        Object.values(v).forEach(collect);
      }
    };
    collect(JSON.parse(text));
    expect(objects.length).toBeGreaterThan(1);
    for (const o of objects)
      expect(Object.keys(o)).toEqual(Object.keys(o).sort());
    expect(text.endsWith('\n')).toBe(true);
  });

  it('never carries URL credentials and leaves out absent parts', () => {
    const text = serialiseProvisioningRecord(base);
    expect(text).not.toContain('s3cret');
    expect(withoutCredentials('https://a:b@x.example/p')).toBe(
      'https://x.example/p',
    );
    const r = buildProvisioningRecord({
      ...base,
      identity: undefined,
      serving: undefined,
    });
    expect(Object.keys(r)).not.toContain('identity');
    expect(Object.keys(r)).not.toContain('serving');
  });
});
