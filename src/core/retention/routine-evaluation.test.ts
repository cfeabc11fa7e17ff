import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventBody } from '../events.ts';
import type { ReleaseState } from '../release/state.ts';
import type { Verdict } from '../types.ts';
import { HEARTBEAT_MS, isRoutineEvaluation } from './routine-evaluation.ts';

const verdict = (rule: string, outcome: Verdict['outcome'], at: number): Verdict => ({
  rule,
  metric: 'error_rate',
  outcome,
  canary: 0.01,
  baseline: 0.01,
  threshold: 0.03,
  canarySamples: 100,
  baselineSamples: 400,
  reason: 'r',
  at,
});

function release(
  outcomes: Record<string, Verdict['outcome']>,
  o: { levelSince?: number; metricsErrors?: number } = {},
): ReleaseState {
  const rules = Object.fromEntries(
    Object.entries(outcomes).map(([rule, outcome]) => [
      rule,
      {
        consecutiveFails: outcome === 'Fail' ? 1 : 0,
        totalFails: 0,
        inconclusiveSince: null,
        last: verdict(rule, outcome, 1000),
      },
    ]),
  );
  return {
    contract: { rules: Object.keys(outcomes).map((name) => ({ name })) },
    rules,
    level: { since: o.levelSince ?? 500, weight: 20, base: null },
    metricsErrors: o.metricsErrors ?? 0,
  } as unknown as ReleaseState;
}

const evaluated = (
  outcomes: Record<string, Verdict['outcome']>,
  extra: Partial<Extract<EventBody, { type: 'analysis.evaluated' }>> = {},
): EventBody[] => [
  {
    type: 'analysis.evaluated',
    verdicts: Object.entries(outcomes).map(([rule, o]) => verdict(rule, o, 2000)),
    ...extra,
  },
];

test('an evaluation that changes no outcome at the same level is routine until a heartbeat is due', () => {
  const before = release({ errors: 'Pass', latency: 'Inconclusive' });
  assert.equal(isRoutineEvaluation(before, evaluated({ errors: 'Pass', latency: 'Inconclusive' }), 1000, 2000), true);
  assert.equal(
    isRoutineEvaluation(before, evaluated({ errors: 'Pass', latency: 'Inconclusive' }), 1000, 1000 + HEARTBEAT_MS),
    false,
    'a heartbeat is recorded',
  );
  assert.equal(
    isRoutineEvaluation(before, evaluated({ errors: 'Pass', latency: 'Inconclusive' }), null, 2000),
    false,
    'nothing recorded yet (a restart)',
  );
});

test('every decision and what decides it is recorded: a changed outcome, a Fail, a new level, a metrics error and its end, a point', () => {
  const before = release({ errors: 'Pass', latency: 'Pass' });
  const same = { errors: 'Pass', latency: 'Pass' } as const;
  assert.equal(isRoutineEvaluation(before, evaluated({ errors: 'Pass', latency: 'Inconclusive' }), 1000, 2000), false);
  assert.equal(
    isRoutineEvaluation(release({ errors: 'Fail' }), evaluated({ errors: 'Fail' }), 1000, 2000),
    false,
    'every Fail counts',
  );
  assert.equal(
    isRoutineEvaluation(release(same, { levelSince: 1500 }), evaluated(same), 1000, 2000),
    false,
    'the first verdicts at a new traffic level',
  );
  assert.equal(isRoutineEvaluation(before, evaluated(same, { metricsError: 'down' }), 1000, 2000), false);
  assert.equal(
    isRoutineEvaluation(release(same, { metricsErrors: 2 }), evaluated(same), 1000, 2000),
    false,
    'the provider recovered',
  );
  assert.equal(
    isRoutineEvaluation(before, evaluated(same, { points: { latency: { canary: 1, baseline: 1 } } }), 1000, 2000),
    false,
  );
  assert.equal(
    isRoutineEvaluation(
      before,
      [...evaluated(same), { type: 'release.paused', reason: 'inconclusive', detail: 'd' }],
      1000,
      2000,
    ),
    false,
    'a decision came with it',
  );
  assert.equal(isRoutineEvaluation(null, evaluated(same), 1000, 2000), false);
});
