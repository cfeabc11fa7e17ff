import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contract } from '../testing/fixtures.ts';
import { simulate } from '../testing/simulator.ts';
import type { Step } from '../types.ts';

const STEPS: Step[] = [
  { kind: 'setWeight', weight: 10 },
  { kind: 'pause', durationMs: 20_000 },
  { kind: 'setWeight', weight: 50 },
  { kind: 'pause', durationMs: 20_000 },
];
const SEQUENTIAL = contract({
  intervalMs: 1000,
  maxInconclusiveMs: 240_000,
  rules: contract().rules.map((r) => ({ ...r, judge: 'sequential' as const })),
});
const base = {
  steps: STEPS,
  contract: SEQUENTIAL,
  stable: { errorRate: 0.002, latencyMs: 20 },
  rps: 200,
  durationMs: 300_000,
  tickMs: 250,
};
/** What was decided, and when: every event but the evaluations. */
const decisions = (events: ReturnType<typeof simulate>['events']) =>
  events.filter((e) => e.type !== 'analysis.evaluated').map((e) => `${e.at} ${e.type}`);

test('keeping routine evaluations out of the log changes no decision: the same events at the same times, healthy, bad and flapping canaries', () => {
  const canaries = [
    { errorRate: 0.002, latencyMs: 20 },
    { errorRate: 0.05, latencyMs: 20 },
    { errorRate: 0.002, latencyMs: 400 },
    (t: number) => (t > 30_000 ? { errorRate: 0.08, latencyMs: 20 } : { errorRate: 0.002, latencyMs: 20 }),
  ];
  let kept = 0;
  let all = 0;
  for (const canary of canaries) {
    for (let seed = 1; seed <= 5; seed++) {
      const whole = simulate({ ...base, seed, canary });
      const retained = simulate({ ...base, seed, canary, retention: true });
      assert.deepEqual(decisions(retained.events), decisions(whole.events), `seed ${seed}`);
      assert.equal(retained.state.release!.status, whole.state.release!.status);
      assert.deepEqual(retained.state.release!.rollback, whole.state.release!.rollback);
      all += whole.events.filter((e) => e.type === 'analysis.evaluated').length;
      kept += retained.events.filter((e) => e.type === 'analysis.evaluated').length;
    }
  }
  assert.ok(kept < all / 2, `kept ${kept} of ${all} evaluations`);
});
