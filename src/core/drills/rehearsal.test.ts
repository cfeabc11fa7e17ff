import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlanRecord } from '../plan/types.ts';
import { rehearsalGate, rehearsedShare, type RehearsalResult } from './rehearsal.ts';

const plan: PlanRecord = {
  id: 'p1',
  service: 'shop',
  environment: 'production',
  version: '2.0.0',
  specHash: 'h',
  risk: { level: 'low', reason: '' },
  policy: {
    name: 'production',
    index: 1,
    previous: 'staging',
    minSoakMs: 0,
    approvals: { required: 0, role: 'approver' },
    rehearsal: { errorsPercent: 100, maxTimeToRevertMs: 30_000 },
  },
  requestedBy: 'dora',
  requestedAt: 0,
};
const rehearsal = (o: Partial<RehearsalResult>): RehearsalResult => ({
  service: 'shop',
  environment: 'production',
  version: '2.0.0',
  ranIn: 'shop--staging',
  ok: true,
  at: 10,
  timeToDetectMs: 400,
  timeToRevertMs: 600,
  maxTimeToRevertMs: 30_000,
  detail: 'reverted',
  ...o,
});

test('the rehearsal gate: passed only on a rehearsal that reverted in time; a first release has nothing to roll back', () => {
  assert.equal(rehearsalGate(plan, { last: null, firstRelease: false }).outcome, 'failed');
  assert.equal(rehearsalGate(plan, { last: null, firstRelease: true }).outcome, 'passed');
  assert.equal(rehearsalGate(plan, { last: rehearsal({}), firstRelease: false }).outcome, 'passed');
  const slow = rehearsalGate(plan, {
    last: rehearsal({ ok: false, timeToRevertMs: 31_000, detail: 'reverted in 31000 ms' }),
    firstRelease: false,
  });
  assert.equal(slow.outcome, 'failed');
  assert.match(slow.detail, /did not revert within 30s: reverted in 31000 ms/);
  assert.equal(
    rehearsalGate(plan, { last: rehearsal({ timeToRevertMs: null, ok: false }), firstRelease: false }).outcome,
    'failed',
  );
  const { rehearsal: _none, ...policy } = plan.policy;
  assert.equal(rehearsalGate({ ...plan, policy }, undefined).outcome, 'passed');
});

test('the share of releases rehearsed counts a passing rehearsal made before the release started', () => {
  const releases = [
    { service: 'shop', environment: 'production', version: '2.0.0', startedAt: 100 },
    { service: 'shop', environment: 'production', version: '3.0.0', startedAt: 200 },
    { service: 'shop', environment: 'production', version: '4.0.0', startedAt: 5 },
  ];
  const done = [rehearsal({}), rehearsal({ version: '3.0.0', ok: false }), rehearsal({ version: '4.0.0', at: 50 })];
  assert.deepEqual(rehearsedShare(releases, done), { releases: 3, rehearsed: 1, share: 33.3 });
  assert.deepEqual(rehearsedShare([], done), { releases: 0, rehearsed: 0, share: null });
});
