import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalRefusal, overrideRefusal, validApprovals } from './approvals.ts';
import { evaluateGates, planOutcome } from './gates.ts';
import { policyOf } from './policy.ts';
import { riskOf } from './risk.ts';
import type { Approval, PlanFacts, PlanRecord } from './types.ts';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const envs = [
  { name: 'staging' },
  { name: 'production', minSoak: 60_000, approvals: { required: 1, role: 'approver' } },
];
const low = riskOf(undefined, {});
const plan = (over: Partial<PlanRecord> = {}): PlanRecord => ({
  id: 'shop/production/1',
  service: 'shop',
  environment: 'production',
  version: '2.0.0',
  specHash: 'h1',
  risk: low,
  policy: policyOf(envs, 1, low),
  requestedBy: 'dora',
  requestedAt: T0,
  ...over,
});
const approval = (over: Partial<Approval> = {}): Approval => ({
  planId: 'shop/production/1',
  by: 'alice',
  role: 'approver',
  at: T0,
  version: '2.0.0',
  specHash: 'h1',
  comment: null,
  ...over,
});
const facts = (over: Partial<PlanFacts> = {}): PlanFacts => ({
  contractRules: 2,
  previousRelease: {
    service: 'shop--staging',
    id: 'shop--staging#2',
    status: 'Succeeded',
    endedAt: T0,
    smoke: { ok: true, detail: 'HTTP 200' },
    verifyMs: 0,
    verdicts: [{ rule: 'error_rate', outcome: 'Pass' }],
    stableVersion: '2.0.0',
  },
  approvals: [approval()],
  overrides: [],
  window: null,
  ...over,
});
const outcomes = (f: PlanFacts, now: number, p = plan()) =>
  Object.fromEntries(evaluateGates(p, f, now).map((g) => [g.gate, g.outcome]));

test('every gate passes: the plan is ready', () => {
  const gates = evaluateGates(plan(), facts(), T0 + 60_000);
  assert.ok(
    gates.every((g) => g.outcome === 'passed'),
    JSON.stringify(gates),
  );
  assert.equal(planOutcome(gates), 'ready');
  assert.match(
    gates.find((g) => g.gate === 'previous-environment')!.detail,
    /completed in staging \(shop--staging#2: smoke passed/,
  );
});

test('each gate blocks on its own', () => {
  assert.equal(outcomes(facts({ contractRules: 0 }), T0 + 60_000).contract, 'failed');
  assert.equal(outcomes(facts({ previousRelease: null }), T0 + 60_000)['previous-environment'], 'failed');
  const rolledBack = facts({ previousRelease: { ...facts().previousRelease!, status: 'RolledBack', endedAt: null } });
  assert.deepEqual(
    [outcomes(rolledBack, T0 + 60_000)['previous-environment'], outcomes(rolledBack, T0 + 60_000).soak],
    ['failed', 'failed'],
  );
  const smokeFailed = facts({
    previousRelease: { ...facts().previousRelease!, smoke: { ok: false, detail: 'exit 1' } },
  });
  assert.equal(outcomes(smokeFailed, T0 + 60_000)['previous-environment'], 'failed');
  const soak = evaluateGates(plan(), facts(), T0 + 59_000).find((g) => g.gate === 'soak')!;
  assert.deepEqual([soak.outcome, soak.until], ['failed', T0 + 60_000]);
  assert.equal(outcomes(facts({ approvals: [] }), T0 + 60_000).approvals, 'waiting');
  const closed = evaluateGates(
    plan(),
    facts({ window: { open: false, reason: 'freeze "launch"', until: T0 + 3_600_000 } }),
    T0 + 60_000,
  );
  assert.deepEqual([closed.find((g) => g.gate === 'window')!.outcome, planOutcome(closed)], ['waiting', 'waiting']);
  assert.equal(planOutcome(evaluateGates(plan(), facts({ previousRelease: null }), T0)), 'refused');
});

test('an override turns a failed gate into overridden, with the override as evidence', () => {
  const o = {
    planId: 'shop/production/1',
    gate: 'soak' as const,
    by: 'alice',
    at: T0,
    reason: 'hotfix',
    postmortemId: 'shop-pm-1',
  };
  const gates = evaluateGates(plan(), facts({ overrides: [o] }), T0 + 1000);
  const soak = gates.find((g) => g.gate === 'soak')!;
  assert.equal(soak.outcome, 'overridden');
  assert.deepEqual((soak.evidence.override as { postmortem: string }).postmortem, 'shop-pm-1');
  assert.equal(planOutcome(gates), 'ready');
  // An override of another plan does not count.
  assert.equal(outcomes(facts({ overrides: [{ ...o, planId: 'shop/production/0' }] }), T0 + 1000).soak, 'failed');
});

test('four-eyes, roles and expiry of approvals', () => {
  const p = plan();
  assert.match(approvalRefusal(p, 'dora', true, [])!, /four-eyes/);
  assert.match(approvalRefusal(p, 'vera', false, [])!, /need role approver/);
  assert.match(approvalRefusal(p, 'alice', true, [approval()])!, /already approved/);
  assert.equal(approvalRefusal(p, 'bob', true, [approval()]), null);
  // With owners named in the spec, only they approve.
  const owned = plan({ policy: policyOf(envs, 1, low, ['alice', 'erin']) });
  assert.match(
    approvalRefusal(owned, 'bob', true, [])!,
    /approvals come from the service's owners \(alice, erin\); bob is not one of them/,
  );
  assert.equal(approvalRefusal(owned, 'erin', true, []), null);
  const { valid, expired } = validApprovals(p, [
    approval(),
    approval({ by: 'bob', specHash: 'h0' }),
    approval({ by: 'carl', version: '1.9.0' }),
    approval({ by: 'dora' }),
  ]);
  assert.deepEqual([valid.map((a) => a.by), expired.map((a) => a.by)], [['alice'], ['bob', 'carl', 'dora']]);
  const gates = evaluateGates(p, facts(), T0 + 60_000);
  assert.match(overrideRefusal(p, 'soak', 'dora', true, gates)!, /four-eyes/);
  assert.match(overrideRefusal(p, 'contract', 'alice', true, gates)!, /cannot be overridden/);
  assert.match(overrideRefusal(p, 'soak', 'alice', true, gates)!, /has passed; nothing to override/);
  assert.match(overrideRefusal(p, 'soak', 'alice', false, gates)!, /needs role approver/);
});

test('risk: declared, or high from labels; high risk raises approvals and soak', () => {
  assert.deepEqual(riskOf('medium', { area: 'payments' }), { level: 'medium', reason: 'declared in spec.risk' });
  assert.equal(riskOf(undefined, { change: 'Migration' }).level, 'high');
  assert.equal(riskOf(undefined, { auth: 'true' }).level, 'high');
  assert.equal(riskOf(undefined, { team: 'search' }).level, 'low');
  const high = riskOf('high', {});
  assert.deepEqual(policyOf(envs, 1, high).approvals, { required: 2, role: 'approver' });
  const withExtras = [
    { name: 'staging' },
    {
      name: 'production',
      minSoak: 60_000,
      approvals: { required: 1, role: 'admin' },
      highRisk: { approvals: 3, minSoak: 3_600_000 },
    },
  ];
  assert.deepEqual(
    [
      policyOf(withExtras, 1, high).approvals.required,
      policyOf(withExtras, 1, high).minSoakMs,
      policyOf(withExtras, 1, low).minSoakMs,
    ],
    [3, 3_600_000, 60_000],
  );
  assert.equal(policyOf(envs, 0, high).approvals.required, 0, 'no approvals asked, none added');
});
