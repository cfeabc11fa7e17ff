import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventBody, ServiceEvent } from '../events.ts';
import type { ReleaseState } from '../release/state.ts';
import { impactOf, retrospective, rollbackLog, stagedSchedule } from './release-documents.ts';
import { storyboard } from './storyboard.ts';
import type { ReleaseDocInput } from './types.ts';

const T0 = Date.UTC(2026, 5, 1, 10);
let seq = 100;
const ev = (ms: number, body: Record<string, unknown>): ServiceEvent => ({
  ...(body as EventBody),
  service: 'checkout',
  at: T0 + ms,
  actor: 'sluice-controller',
  seq: ++seq,
});

const contract = {
  intervalMs: 1000,
  windowMs: 10_000,
  minSamples: 20,
  consecutive: 1,
  failureLimit: null,
  maxInconclusiveMs: 60_000,
  metricsErrors: { limit: 3, action: 'pause' },
  rules: [],
  onFail: 'rollback',
  revert: { kind: 'instant' },
};
const rollback = {
  kind: 'contract',
  trigger: 'error_rate',
  reason: 'error_rate 50%',
  verdicts: [],
  actor: 'sluice-controller',
  detectedAt: T0 + 6000,
  trafficRevertedAt: T0 + 6012,
  canaryStoppedAt: T0 + 9000,
  revertMs: 12,
};
const release = {
  id: 'r3',
  number: 3,
  kind: 'canary',
  from: { key: '2', version: '2.0.0' },
  to: { key: '3', version: '3.0.0' },
  steps: [
    { kind: 'setWeight', weight: 20 },
    { kind: 'pause', durationMs: 30_000 },
    { kind: 'setWeight', weight: 60 },
  ],
  plan: { strategy: 'canary' },
  contract,
  status: 'RolledBack',
  startedAt: T0,
  startedBy: 'alice',
  endedAt: T0 + 6012,
  rollback,
} as unknown as ReleaseState;
const events = [
  ev(0, { type: 'release.started', release }),
  ev(1000, { type: 'step.started', index: 0, step: { kind: 'setWeight', weight: 20 } }),
  ev(1010, { type: 'traffic.applied', weights: { '2': 80, '3': 20 } }),
  ev(2000, { type: 'analysis.evaluated', verdicts: [{ rule: 'error_rate', outcome: 'Inconclusive' }] }),
  ev(3000, { type: 'step.started', index: 1, step: { kind: 'pause', durationMs: 30_000 } }),
  ev(4000, { type: 'analysis.evaluated', verdicts: [{ rule: 'error_rate', outcome: 'Pass' }] }),
  ev(6000, {
    type: 'analysis.evaluated',
    verdicts: [{ rule: 'error_rate', outcome: 'Fail' }],
    accumulated: {
      canary: { last: null, sum: { requests: 400, errors: 190, latency: {} } },
      baseline: { last: null, sum: { requests: 1600, errors: 0, latency: {} } },
    },
  }),
  ev(6000, { type: 'rollback.started', status: 'RolledBack', log: rollback }),
  ev(6012, { type: 'traffic.applied', weights: { '2': 100, '3': 0 } }),
  ev(6012, { type: 'rollback.trafficReverted', at: T0 + 6012 }),
];
const input: ReleaseDocInput = {
  service: 'checkout',
  release,
  events,
  commits: [],
  labels: { team: 'payments' },
  notifications: [],
  specChanges: [{ path: 'target.env.FAIL_RATE', from: '0', to: '0.5' }],
  generatedFrom: { seq: 111, hash: 'f'.repeat(64) },
  generatedAt: T0 + 60_000,
};

describe('release documents', () => {
  it('the impact comes from the data plane: failed requests, the largest share of traffic, first traffic to revert', () => {
    assert.deepEqual(impactOf(input), {
      failedRequests: 190,
      canaryRequests: 400,
      usersAffectedShare: 0.2,
      durationMs: 5002,
      firstTrafficAt: new Date(T0 + 1010).toISOString(),
    });
  });

  it('the staged schedule: each step with its actual start, duration and the verdicts during it; steps not reached say so', () => {
    const rows = stagedSchedule(input).sections[1]!.body as {
      step: number;
      actualStart: string | null;
      durationS: number | null;
      verdicts: string;
    }[];
    assert.deepEqual(
      rows.map((r) => [r.step, r.actualStart?.slice(11, 23) ?? null, r.durationS, r.verdicts]),
      [
        [1, '10:00:01.000', 2, '0 Pass, 1 Inconclusive, 0 Fail'],
        [2, '10:00:03.000', 3.012, '1 Pass, 0 Inconclusive, 1 Fail'],
        [3, null, null, 'not reached'],
      ],
    );
  });

  it('the rollback log and the retrospective carry the timeline to the millisecond and where they came from', () => {
    const log = rollbackLog(input);
    assert.deepEqual(
      (log.sections[2]!.body as { sinceDetectionMs: number }[]).map((r) => r.sinceDetectionMs),
      [0, 12, 3000],
    );
    assert.deepEqual((log.sections[3]!.body as { weights: unknown }).weights, { '2': 100, '3': 0 });
    const retro = retrospective(input);
    assert.equal(retro.generatedFrom.seq, 111);
    assert.match(retro.markdown, /from the log at sequence 111 \(chain hash f{64}\)/);
    const timeline = retro.sections.find((s) => s.heading === 'Timeline')!.body as {
      seq: number;
      offsetMs: number;
      event: string;
    }[];
    // Each evaluation is left out unless it failed; every line is an event of the log, in order.
    assert.deepEqual(
      timeline.map((t) => t.offsetMs),
      [0, 1000, 1010, 3000, 6000, 6000, 6012, 6012],
    );
    assert.equal(timeline[4]!.event, 'verdict Fail: error_rate');
    assert.deepEqual(
      (retro.sections.find((s) => s.heading === 'Action items')!.body as { owner: string }[]).map((a) => a.owner),
      ['payments', 'payments'],
    );
  });

  it('the storyboard of a rolled-back release: the Release frame failed, Verify skipped, Rollback with its timeline', () => {
    const b = storyboard(input);
    assert.deepEqual(
      b.frames.map((f) => [f.frame, f.status]),
      [
        ['Plan', 'failed'], // this fixture's contract has no rules
        ['Stage', 'pending'],
        ['Release', 'failed'],
        ['Verify', 'skipped'],
        ['Rollback', 'done'],
      ],
    );
    assert.deepEqual(b.frames[0]!.checklist[0], {
      item: 'environment plan',
      done: null,
      detail: 'released directly: no environment plan, no gates',
    });
    assert.equal(b.frames[0]!.checklist.find((c) => c.item === 'rollback contract')?.done, false, 'no rules');
    assert.deepEqual(
      b.frames[4]!.checklist.map((c) => [c.item, c.done]),
      [
        ['failure detected', true],
        ['traffic reverted', true],
        ['canary stopped', true],
        ['retrospective', null],
      ],
    );
    assert.match(b.frames[4]!.checklist[1]!.detail, /12 ms after detection$/);
    assert.deepEqual(b.frames[3]!.checklist, [
      { item: 'all traffic on the new version', done: false, detail: 'rolled back before' },
      { item: 'release succeeded', done: false, detail: 'RolledBack' },
    ]);
  });
});
