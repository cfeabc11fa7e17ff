import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventBody, ServiceEvent } from '../events.ts';
import type { ReleaseState } from '../release/state.ts';
import type { Rule } from '../types.ts';
import { describeRule, specDiff } from './plain-words.ts';
import { releasePlan, retrospective, stagedSchedule } from './release-documents.ts';
import { runbook } from './runbook.ts';
import { storyboard } from './storyboard.ts';
import type { ReleaseDocInput } from './types.ts';

/** A release of cart--production let through its approvals gate by an override, then promoted past missing evidence. */
const T0 = Date.UTC(2026, 5, 1, 10);
let seq = 10;
const ev = (ms: number, body: Record<string, unknown>, o: { service?: string; actor?: string } = {}): ServiceEvent => ({
  ...(body as EventBody),
  service: o.service ?? 'cart--production',
  at: T0 + ms,
  actor: o.actor ?? 'sluice-controller',
  seq: ++seq,
});
const rules: Rule[] = [
  { name: 'error_rate', metric: 'error_rate', failIf: { op: 'above', reference: 'baseline', by: 0.02 } },
  { name: 'slow', metric: 'latency_p95', failIf: { op: 'above', reference: 500 } },
  {
    name: 'burn',
    metric: 'burn_rate',
    objective: 0.999,
    windows: [{ longMs: 3_600_000, shortMs: 300_000, factor: 14.4 }],
  },
  { name: 'pager', metric: 'signal', signal: 'pager', count: 2, withinMs: 600_000 },
];
const release = {
  id: 'cart--production#2',
  number: 2,
  kind: 'canary',
  from: { key: '1', version: '1.0.0' },
  to: { key: '2', version: '1.1.0' },
  steps: [
    { kind: 'setWeight', weight: 20 },
    { kind: 'pause', durationMs: 30_000 },
    { kind: 'setWeight', weight: 60 },
    { kind: 'pause', durationMs: null },
    { kind: 'setWeight', weight: 80 },
  ],
  plan: { strategy: 'canary' },
  contract: {
    intervalMs: 1000,
    windowMs: 10_000,
    minSamples: 20,
    consecutive: 1,
    failureLimit: null,
    maxInconclusiveMs: 60_000,
    metricsErrors: { limit: 3, action: 'pause' },
    rules,
  },
  status: 'Succeeded',
  startedAt: T0,
  startedBy: 'admin',
  endedAt: T0 + 90_000,
  rollback: null,
} as unknown as ReleaseState;
const plan = {
  id: 'cart/production/1',
  service: 'cart',
  environment: 'production',
  version: '1.1.0',
  risk: { level: 'high', reason: 'derived from labels: payments' },
  requestedBy: 'admin',
};
const governance = { service: 'cart', actor: 'admin' };
const events = [
  ev(-5000, { type: 'plan.requested', plan }, governance),
  ev(
    -4900,
    { type: 'gate.evaluated', planId: plan.id, result: { gate: 'approvals', outcome: 'waiting', detail: '0 of 1' } },
    governance,
  ),
  ev(
    -2000,
    {
      type: 'gate.overridden',
      override: {
        planId: plan.id,
        gate: 'approvals',
        by: 'carol',
        at: T0 - 2000,
        reason: 'hotfix for the outage',
        postmortemId: 'cart-pm-1',
      },
    },
    { service: 'cart', actor: 'carol' },
  ),
  ev(
    -1900,
    {
      type: 'gate.evaluated',
      planId: plan.id,
      result: { gate: 'approvals', outcome: 'overridden', detail: 'by carol' },
    },
    governance,
  ),
  ev(0, { type: 'release.started', release }),
  ev(1000, { type: 'step.started', index: 0, step: { kind: 'setWeight', weight: 20 } }),
  ev(1010, { type: 'traffic.applied', weights: { '1': 80, '2': 20 } }),
  ev(1000, { type: 'step.started', index: 1, step: { kind: 'pause', durationMs: 30_000 } }),
  ev(
    40_000,
    { type: 'release.promoted', full: true, fromStep: 1, withoutEvidence: ['error_rate'], reason: 'the fix is urgent' },
    { actor: 'carol' },
  ),
  ev(40_100, { type: 'traffic.applied', weights: { '1': 0, '2': 100 } }),
  ev(90_000, { type: 'release.succeeded', stable: { key: '2', version: '1.1.0' } }),
];
const input: ReleaseDocInput = {
  service: 'cart--production',
  release,
  events,
  commits: [
    { sha: 'c0ffee42aa', committedAt: T0 - 3_600_000, message: 'Faster cart' },
    { sha: 'deadbeef', committedAt: null, message: null },
  ],
  labels: { team: 'web', owner: 'bob' },
  notifications: [],
  specChanges: specDiff(
    { version: '1.0.0', target: { env: { A: '1' }, instances: 2 } },
    { version: '1.1.0', target: { env: { A: '2' }, instances: 2 }, risk: 'high' },
  ),
  generatedFrom: { seq: 99, hash: 'a'.repeat(64) },
  generatedAt: T0 + 100_000,
};

describe('documents of a governed release', () => {
  it('the plan names the risk, the gates as they ended, the override, the spec diff and commits without a known time', () => {
    const doc = releasePlan(input);
    const section = (h: string) => doc.sections.find((s) => s.heading === h)?.body;
    assert.deepEqual(section('Risk'), {
      level: 'high',
      why: 'derived from labels: payments',
      environment: 'production',
      'asked by': 'admin',
    });
    const gates = section('Gates and approvals') as string[];
    assert.deepEqual(gates, [
      'approvals: overridden — by carol',
      `gate approvals overridden by carol at ${new Date(T0 - 2000).toISOString()}: hotfix for the outage`,
    ]);
    assert.deepEqual(section('Spec diff'), [
      { field: 'risk', from: '(absent)', to: 'high' },
      { field: 'target.env.A', from: '1', to: '2' },
      { field: 'version', from: '1.0.0', to: '1.1.0' },
    ]);
    assert.deepEqual(section('Commits'), [
      { sha: 'c0ffee42aa', committed: new Date(T0 - 3_600_000).toISOString(), message: 'Faster cart' },
      { sha: 'deadbeef', committed: null, message: '' },
    ]);
    const contract = section('Rollback contract') as string[];
    assert.ok(
      contract.includes(
        "Rule error_rate: fails when the canary's error rate (counting 5xx, connect) is above baseline + 2.00%.",
      ),
      contract.join('\n'),
    );
    assert.ok(
      contract.every((line) => !line.includes('{')),
      'no JSON in plain words',
    );
  });

  it('the retrospective of a release an override let through: its trigger is the override, its timeline starts at the plan', () => {
    const doc = retrospective(input);
    const section = (h: string) => doc.sections.find((s) => s.heading === h)?.body;
    assert.match(section('Summary') as string, /trigger: override \(carol overrode gate approvals/);
    assert.deepEqual(section('Trigger'), [
      `carol overrode gate approvals at ${new Date(T0 - 2000).toISOString()}: hotfix for the outage`,
      `carol promoted from step 2 at ${new Date(T0 + 40_000).toISOString()} without evidence for error_rate: the fix is urgent`,
    ]);
    const timeline = section('Timeline') as { seq: number; offsetMs: number; event: string }[];
    assert.deepEqual(
      timeline.map((t) => t.seq),
      events.map((e) => e.seq),
      'every event, governance included, in log order',
    );
    assert.equal(timeline[0]!.offsetMs, -5000);
    assert.match(timeline[0]!.event, /admin asked to release 1\.1\.0 to production \(risk high\)/);
  });

  it('a release with neither a rollback nor an override says so as its trigger', () => {
    const plain = {
      ...input,
      events: events.filter((e) => e.service === 'cart--production' && e.type !== 'release.promoted'),
    };
    assert.equal(
      retrospective(plain).sections.find((s) => s.heading === 'Trigger')?.body,
      'none (release Succeeded, no rollback and no override)',
    );
  });

  it('the schedule plans each step from the first one: timed pauses last their duration, an open pause waits for a person', () => {
    const rows = stagedSchedule(input).sections[1]!.body as { plannedStart: string; actualStart: string | null }[];
    assert.deepEqual(
      rows.map((r) => r.plannedStart),
      [
        new Date(T0 + 1000).toISOString(),
        new Date(T0 + 1000).toISOString(),
        new Date(T0 + 31_000).toISOString(),
        new Date(T0 + 31_000).toISOString(),
        'after a person promotes',
      ],
    );
  });

  it('every kind of rule in plain words', () => {
    assert.deepEqual(rules.map(describeRule), [
      "error_rate: fails when the canary's error rate (counting 5xx, connect) is above baseline + 2.00%",
      "slow: fails when the canary's p95 latency is above 500.0ms",
      'burn: fails when the canary burns its error budget (objective 99.90%) faster than 14.4× over both 60 min and 5 min',
      'pager: fails at 2 "pager" signal(s) within 10 min',
    ]);
  });

  it('the runbook: the exact commands, and the drills with their last results', () => {
    const doc = runbook({
      service: 'cart--production',
      labels: { owner: 'bob', escalation: '#web-oncall' },
      file: '/srv/cart.yaml',
      releases: [release],
      drills: [
        {
          drill: 'kill-one',
          lastRun: 3,
          at: '2026-06-01T09:00:00.000Z',
          result: 'passed',
          command: 'sluice gameday show kill-one --run 3',
        },
      ],
      generatedFrom: { seq: 99, hash: null },
      generatedAt: T0,
    });
    assert.match(doc.markdown, /sluice wait cart--production --for healthy --timeout 30m/);
    assert.match(
      doc.markdown,
      /\| kill-one \| 3 \| 2026-06-01T09:00:00\.000Z \| passed \| sluice gameday show kill-one --run 3 \|/,
    );
    const none = runbook({
      ...{ service: 'cart', labels: {}, file: null, releases: [], drills: [] },
      generatedFrom: { seq: 1, hash: null },
      generatedAt: T0,
    });
    assert.match(none.markdown, /No drill or rollback rehearsal recorded for cart yet/);
  });

  it('the storyboard: each frame with its checklist from the log and the document it opens', () => {
    const b = storyboard(input);
    assert.deepEqual(
      b.frames.map((f) => [f.frame, f.status, f.artifact]),
      [
        ['Plan', 'done', 'plan'],
        ['Stage', 'pending', 'schedule'],
        ['Release', 'done', 'comms'],
        ['Verify', 'done', 'schedule'],
        ['Rollback', 'skipped', 'rollback'],
      ],
    );
    const plan = b.frames[0]!.checklist;
    assert.deepEqual(
      plan.map((c) => [c.item, c.done]),
      [
        ['environment plan', true],
        ['gate approvals', true],
        ['approvals', true],
        ['override of approvals', true],
        ['rollback contract', true],
        ['commits known', true],
        ['communication plan', null],
      ],
    );
    assert.match(plan[0]!.detail, /admin asked for 1\.1\.0 in production \(risk high: derived from labels: payments\)/);
    assert.deepEqual(
      b.frames[2]!.checklist.map((c) => [c.item, c.done, c.detail]),
      [
        ['step 1: setWeight 20', true, `started ${new Date(T0 + 1000).toISOString()}`],
        ['step 2: pause 30s', true, `started ${new Date(T0 + 1000).toISOString()}`],
        ['step 3: setWeight 60', null, 'skipped: promoted to 100%'],
        ['step 4: pause (until promoted)', null, 'skipped: promoted to 100%'],
        ['step 5: setWeight 80', null, 'skipped: promoted to 100%'],
        ['no failed verdict', true, 'every evaluation passed or was inconclusive'],
      ],
    );
    assert.deepEqual(
      b.frames[3]!.checklist.map((c) => c.done),
      [true, null, true],
    );
  });
});
