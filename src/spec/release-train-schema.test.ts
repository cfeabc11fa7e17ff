import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readDocuments } from './documents.ts';
import { driverSchemas } from './fixtures/driver-schemas.ts';

const train = (extra: string) => `apiVersion: sluice.dev/v1alpha1
kind: ReleaseTrain
metadata: { name: spring }
spec:
  services:
    - { name: payments, version: "2.0.0" }
${extra}`;

const problem = (extra: string) => {
  try {
    readDocuments(train(extra), 'train.yaml', driverSchemas());
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail('accepted');
};

test('spec.approvals and spec.window: read into the train, bad values named with the field, the value and what is valid', () => {
  const [doc] = readDocuments(
    train('  approvals: { required: 2 }\n  window: { policy: ops }\n'),
    'train.yaml',
    driverSchemas(),
  );
  assert.ok(doc?.kind === 'ReleaseTrain');
  assert.deepEqual(doc.train.approvals, { required: 2, role: 'approver' });
  assert.deepEqual(doc.train.window, { policy: 'ops' });
  assert.deepEqual(doc.at['spec.window.policy'], { file: 'train.yaml', line: 8, column: 21 });

  assert.match(
    problem('  approval: { required: 1 }\n'),
    /train\.yaml:7:3: spec\.approval: unknown field "approval" \(did you mean "approvals"\?\)/,
  );
  assert.match(
    problem('  approvals: { required: 0 }\n'),
    /spec\.approvals\.required: required is at least 1 .*; got 0/,
  );
  assert.match(
    problem('  approvals: { required: 1, role: deployer }\n'),
    /spec\.approvals\.role: role is approver or admin; got "deployer"/,
  );
  assert.match(problem('  window: { policy: "" }\n'), /spec\.window\.policy: policy names the server's release policy/);
});
