import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceEvent } from '../core/events.ts';
import type { Verdict } from '../core/types.ts';
import { reduceSeries, seriesOf } from './verdict-series.ts';

const verdict = (rule: string, at: number, canary: number | null, outcome: Verdict['outcome'] = 'Pass'): Verdict => ({
  rule,
  metric: 'error_rate',
  outcome,
  canary,
  baseline: 0.01,
  threshold: 0.03,
  canarySamples: 50,
  baselineSamples: 500,
  reason: '',
  at,
});
const evaluated = (seq: number, verdicts: Verdict[]): ServiceEvent => ({
  type: 'analysis.evaluated',
  verdicts,
  service: 's',
  at: verdicts[0]!.at,
  actor: 'c',
  seq,
});

test('verdicts become one column set per rule, in order', () => {
  const series = seriesOf([
    evaluated(1, [verdict('error_rate', 1000, null, 'Inconclusive'), verdict('p95', 1000, 5)]),
    { type: 'release.resumed', service: 's', at: 1500, actor: 'u', seq: 2 },
    evaluated(3, [verdict('error_rate', 2000, 0.02), verdict('p95', 2000, 6)]),
  ]);
  assert.deepEqual(
    series.map((s) => s.rule),
    ['error_rate', 'p95'],
  );
  assert.deepEqual(series[0]!.at, [1000, 2000]);
  assert.deepEqual(series[0]!.canary, [null, 0.02]);
  assert.deepEqual(series[0]!.outcome, ['Inconclusive', 'Pass']);
  assert.equal(series[0]!.total, 2);
});

test('a long series is reduced to maxPoints, keeping spikes, dips, Fails and where the verdict changes', () => {
  const n = 3 * 3600; // three hours of per-second verdicts
  const events = Array.from({ length: n }, (_, i) => {
    const canary = i === 5000 ? 0.9 : i === 7000 ? 0 : 0.01 + 0.001 * Math.sin(i / 50);
    return evaluated(i + 1, [verdict('error_rate', i * 1000, canary, i >= 9000 && i < 9003 ? 'Fail' : 'Pass')]);
  });
  const [full] = seriesOf(events);
  const reduced = reduceSeries(full!, 2000);
  assert.ok(reduced.at.length <= 2000, `${reduced.at.length} points`);
  assert.ok(reduced.at.length > 1000, `${reduced.at.length} points`);
  assert.equal(reduced.total, n);
  assert.ok(reduced.canary.includes(0.9), 'the spike is kept');
  assert.ok(reduced.canary.includes(0), 'the dip is kept');
  assert.ok(
    reduced.at.includes(9000 * 1000) && reduced.at.includes(9003 * 1000),
    'the first Fail and the return to Pass are kept',
  );
  assert.deepEqual(
    [...reduced.at].sort((a, b) => a - b),
    reduced.at,
    'still in time order',
  );
  assert.equal(reduceSeries(full!, n), full, 'short enough: unchanged');
  // A rule that flips every second still fits.
  const [flipping] = seriesOf(
    Array.from({ length: n }, (_, i) =>
      evaluated(i + 1, [verdict('error_rate', i * 1000, 0.01, i % 2 ? 'Pass' : 'Inconclusive')]),
    ),
  );
  assert.ok(reduceSeries(flipping!, 2000).at.length <= 2000);
});

test('a series with no canary values keeps one point per bucket, so gaps show as gaps', () => {
  const [s] = seriesOf(
    Array.from({ length: 100 }, (_, i) => evaluated(i + 1, [verdict('error_rate', i, null, 'Inconclusive')])),
  );
  const reduced = reduceSeries(s!, 30);
  assert.equal(reduced.at.length, 15);
  assert.ok(reduced.canary.every((v) => v === null));
});
