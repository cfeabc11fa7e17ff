import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyMetric, scoreMetrics } from './kayenta.ts';

const base = Array.from({ length: 50 }, (_, i) => 100 + ((i * 37) % 21) - 10); // 90..110
const shifted = (by: number) => base.map((v, i) => v + by + ((i * 11) % 5) - 2);

test('a clearly higher canary is High; the same data is Pass when only decreases matter', () => {
  const high = classifyMetric(shifted(20), base, { direction: 'increase' });
  assert.equal(high.classification, 'High');
  assert.ok(high.test!.interval[0] > 0.25 * Math.abs(high.test!.estimate));
  assert.match(high.reason, /canary higher than baseline: shift .* at 98%, p .*, mean ratio 1\.2/);
  assert.equal(classifyMetric(shifted(20), base, { direction: 'decrease' }).classification, 'Pass');
});

test('a clearly lower canary is Low under "either"', () => {
  assert.equal(classifyMetric(shifted(-20), base).classification, 'Low');
});

test('an allowed increase lets a significant but small rise pass (mean ratio below 1 + allowed)', () => {
  const r = classifyMetric(shifted(5), base, { direction: 'increase' });
  assert.equal(r.classification, 'High');
  assert.equal(
    classifyMetric(shifted(5), base, { direction: 'increase', allowedIncrease: 0.1 }).classification,
    'Pass',
  );
});

test('identical samples pass, empty ones are NoData', () => {
  assert.equal(classifyMetric([3, 1, 2], [1, 2, 3]).classification, 'Pass');
  assert.equal(classifyMetric([], [1]).classification, 'NoData');
});

test('score: equal group weights, pass and marginal thresholds, critical metrics, no-data groups', () => {
  const oneHigh = scoreMetrics([
    { name: 'error_rate', classification: 'High' },
    { name: 'latency', classification: 'Pass' },
  ]);
  assert.equal(oneHigh.figures.score, 50);
  assert.equal(oneHigh.outcome, 'Fail');
  assert.match(oneHigh.reason, /score 50\.0 .*error_rate High/);

  const four = ['a', 'b', 'c', 'd'].map((name) => ({ name, group: 'g', classification: 'Pass' as const }));
  const marginal = scoreMetrics([...four.slice(0, 3), { name: 'd', group: 'g', classification: 'High' }]);
  assert.equal(marginal.figures.score, 75);
  assert.equal(marginal.figures.classification, 'Marginal');
  assert.equal(marginal.outcome, 'Inconclusive');

  const weighted = scoreMetrics(
    [
      { name: 'x', classification: 'High', group: 'minor' },
      { name: 'y', classification: 'Pass', group: 'major' },
    ],
    { groupWeights: { major: 96 } },
  );
  assert.equal(weighted.figures.score, 96);
  assert.equal(weighted.outcome, 'Pass');

  const critical = scoreMetrics([
    { name: 'x', classification: 'Low', critical: true },
    { name: 'y', classification: 'Pass' },
  ]);
  assert.equal(critical.figures.score, 0);
  assert.match(critical.reason, /critical metric not Pass: x/);

  const noData = scoreMetrics([
    { name: 'x', classification: 'NoData' },
    { name: 'y', classification: 'Pass' },
  ]);
  assert.equal(noData.figures.score, 50, 'a group without data adds nothing, as in Kayenta');
});
