import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evidenceWarnings, requestsForPass } from './evidence-plan.ts';
import { contract } from '../testing/fixtures.ts';
import { simulate } from '../testing/simulator.ts';
import type { MetricRule, RollbackContract, Step } from '../types.ts';

const errorRule = (failIf: MetricRule['failIf']): MetricRule => ({
  name: 'error_rate',
  metric: 'error_rate',
  failIf,
  judge: 'sequential',
});
const p95Rule: MetricRule = {
  name: 'latency_p95',
  metric: 'latency_p95',
  failIf: { op: 'above', reference: 'baseline', times: 1.5 },
  judge: 'sequential',
};
const README: RollbackContract = contract({
  maxInconclusiveMs: 600_000,
  rules: [errorRule({ op: 'above', reference: 'baseline', by: 0.02 }), p95Rule],
});
const steps = (...weights: number[]): Step[] =>
  weights.flatMap((weight) => [{ kind: 'setWeight', weight } as Step, { kind: 'pause', durationMs: 30_000 } as Step]);

test('a tighter allowance needs more canary requests, and times alone on a rate needs far more', () => {
  const by2 = requestsForPass(errorRule({ op: 'above', reference: 'baseline', by: 0.02 }), 10)!;
  const by1 = requestsForPass(errorRule({ op: 'above', reference: 'baseline', by: 0.01 }), 10)!;
  assert.ok(by2 > 100 && by2 < by1, `by 0.02 needs ${by2}, by 0.01 needs ${by1}`);
  const times = requestsForPass(errorRule({ op: 'above', reference: 'baseline', times: 2 }), 10);
  assert.ok(times === null || times > 20 * by2, `times: 2 needs ${times}`);
});

test("the README's steps at the README's traffic fit; 1% of 5 req/s does not, and lint says what would", () => {
  assert.deepEqual(evidenceWarnings(steps(10, 50), README, 40), []);
  const warnings = evidenceWarnings(steps(1, 10, 50), README, 5);
  const first = warnings.find((w) => w.step === 0 && w.rule === 'error_rate');
  assert.ok(first, JSON.stringify(warnings));
  assert.match(
    first.message,
    /^step 1 \(setWeight: 1\), rule error_rate: at 5 req\/s the canary gets 0\.05 req\/s and needs about \d+ requests/,
  );
  assert.match(
    first.message,
    /longer than maxInconclusive 10m: the release would pause here\. Use setWeight: \d+ or more, or maxInconclusive: \d+m/,
  );
  assert.ok(
    warnings.every((w) => w.weight !== 50),
    'half the traffic is enough at 5 req/s',
  );
  const never = evidenceWarnings(
    steps(10),
    contract({ rules: [errorRule({ op: 'above', reference: 'baseline', times: 2 })] }),
    200,
  );
  assert.match(never[0]?.message ?? '', /times alone allows little while the stable version has few errors/);
});

test('the estimate agrees with the judge: a simulated healthy canary at 10% of 40 req/s passes within twice the estimate', () => {
  const needed = requestsForPass(README.rules[0] as MetricRule, 10)!;
  const estimateS = needed / 4;
  for (const seed of [1, 2, 3]) {
    const r = simulate({
      seed,
      steps: [
        { kind: 'setWeight', weight: 10 },
        { kind: 'pause', durationMs: 1000 },
      ],
      contract: README,
      stable: { errorRate: 0.001, latencyMs: 20 },
      canary: { errorRate: 0.001, latencyMs: 20 },
      rps: 40,
      durationMs: 900_000,
      stopWhenPaused: true,
    });
    const index = r.events.findIndex((e) => e.type === 'release.started' && e.release.to.key === '2');
    const start = r.events[index];
    const completing = r.events.slice(index).find((e) => e.type === 'release.completing');
    assert.ok(start && completing, `seed ${seed}: the healthy canary was promoted`);
    const seconds = (completing.at - start.at) / 1000;
    assert.ok(
      seconds < estimateS * 2 && seconds > estimateS / 3,
      `seed ${seed}: promoted after ${seconds} s; lint estimated ${estimateS} s`,
    );
  }
});
