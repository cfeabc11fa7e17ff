import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceSchema } from './service-schema.ts';
import { exampleDocument, testDrivers } from './test-fixtures.ts';

const schema = serviceSchema(testDrivers);

function issues(environments: unknown, risk?: unknown): string[] {
  const doc = exampleDocument() as ReturnType<typeof exampleDocument> & { spec: Record<string, unknown> };
  doc.spec.environments = environments;
  if (risk !== undefined) doc.spec.risk = risk;
  const r = schema.safeParse(doc);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

test('environments: a valid list is normalised (durations in ms, approval role defaulted)', () => {
  const doc = exampleDocument() as ReturnType<typeof exampleDocument> & { spec: Record<string, unknown> };
  doc.spec.environments = [
    { name: 'staging' },
    { name: 'production', minSoak: '10m', verify: '30m', approvals: { required: 2 }, highRisk: { approvals: 3 } },
  ];
  doc.spec.risk = 'high';
  const spec = schema.parse(doc);
  assert.deepEqual(spec.spec.environments?.[1], {
    name: 'production',
    minSoak: 600_000,
    verify: 1_800_000,
    approvals: { required: 2, role: 'approver' },
    highRisk: { approvals: 3 },
  });
  assert.equal(spec.spec.risk, 'high');
});

test('environments: each problem names its field and what is valid', () => {
  assert.deepEqual(issues([{ name: 'staging' }, { name: 'staging' }]), [
    'spec.environments.1.name: environment "staging" is listed twice',
  ]);
  assert.match(
    issues([{ name: 'dev', approvals: { required: 1 } }, { name: 'prod' }])[0]!,
    /^spec\.environments\.0\.approvals: the first environment \(dev\) is released by sluice apply and takes no approvals/,
  );
  assert.match(issues([{ name: 'prod', minsoak: '1m' }])[0]!, /unknown field "minsoak" \(did you mean "minSoak"\?\)/);
  assert.match(
    issues([{ name: 'Prod' }])[0]!,
    /^spec\.environments\.0\.name: an environment name is a lowercase letter/,
  );
  assert.match(
    issues([{ name: 'a' }, { name: 'b', minSoak: 'soon' }])[0]!,
    /^spec\.environments\.1\.minSoak: "soon" is not a duration/,
  );
  assert.match(
    issues([{ name: 'a' }, { name: 'b', approvals: { required: 1, role: 'deployer' } }])[0]!,
    /role is approver or admin/,
  );
  assert.match(issues([], undefined)[0]!, /list at least one environment/);
  assert.match(issues([{ name: 'a' }], 'critical')[0]!, /^spec\.risk: risk is one of low, medium, high/);
});
