import assert from 'node:assert/strict';
import { test } from 'node:test';
import { record } from '../histogram.ts';
import type { Condition, HistogramCounts } from '../../types.ts';
import { sequentialLatency } from './sequential-latency.ts';

const rule: Condition = { op: 'above', reference: 'baseline', by: 50 };

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}
/** Lognormal latencies, median 40 ms (p95 ≈ 91 ms), plus a shift. */
function latencies(
  rand: () => number,
  n: number,
  shiftMs = 0,
  sigma = 0.5,
  into: HistogramCounts = {},
): HistogramCounts {
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    record(into, shiftMs + 40 * Math.exp(sigma * z));
  }
  return into;
}

test('a canary 500 ms slower fails within a few dozen requests', () => {
  const rand = lcg(1);
  const canary: HistogramCounts = {};
  const baseline: HistogramCounts = {};
  let failedAt = 0;
  for (let n = 5; n <= 100 && failedAt === 0; n += 5) {
    latencies(rand, 5, 500, 0.5, canary);
    latencies(rand, 45, 0, 0.5, baseline);
    if (
      sequentialLatency(
        { canary: { latency: canary }, baseline: { latency: baseline } },
        { condition: rule, quantile: 0.95 },
      ).outcome === 'Fail'
    )
      failedAt = n;
  }
  assert.ok(failedAt > 0 && failedAt <= 50, `failed at ${failedAt}`);
});

test('figures: the baseline bound sits above its p95, the limit is bound + by, shares are counted', () => {
  const rand = lcg(2);
  const j = sequentialLatency(
    { canary: { latency: latencies(rand, 500, 100) }, baseline: { latency: latencies(rand, 4500) } },
    { condition: rule, quantile: 0.95 },
  );
  assert.equal(j.outcome, 'Fail');
  const f = j.figures;
  assert.ok(f.baselineBoundMs! >= f.baselineQuantileMs!);
  assert.ok(Math.abs(f.limitMs! - (f.baselineBoundMs! + 50)) < 1e-9);
  assert.ok(f.canaryBeyondShare! > 0.05 && Math.abs(f.allowedShare - 0.05) < 1e-12);
  assert.match(j.reason, /latency_p95 canary .* of canary requests are slower than .*allows 5\.0%/);
});

test('healthy canaries watched after every 50 requests are not failed', () => {
  const rand = lcg(3);
  let failed = 0;
  for (let r = 0; r < 40; r++) {
    const canary: HistogramCounts = {};
    const baseline: HistogramCounts = {};
    for (let look = 0; look < 60; look++) {
      latencies(rand, 50, 0, 0.5, canary);
      latencies(rand, 450, 0, 0.5, baseline);
      const j = sequentialLatency(
        { canary: { latency: canary }, baseline: { latency: baseline } },
        { condition: { op: 'above', reference: 'baseline', times: 1 }, quantile: 0.95 },
      );
      if (j.outcome === 'Fail') {
        failed++;
        break;
      }
    }
  }
  assert.equal(failed, 0);
});

test('a variance increase with the same median fails a p95 rule', () => {
  const rand = lcg(4);
  const j = sequentialLatency(
    { canary: { latency: latencies(rand, 3000, 0, 1.0) }, baseline: { latency: latencies(rand, 27000) } },
    { condition: rule, quantile: 0.95 },
  );
  assert.equal(j.outcome, 'Fail');
});

test('a fixed threshold and the "below" direction', () => {
  const canary: HistogramCounts = {};
  record(canary, 300, 200);
  const fixed = sequentialLatency(
    { canary: { latency: canary }, baseline: { latency: {} } },
    { condition: { op: 'above', reference: 200 }, quantile: 0.95 },
  );
  assert.equal(fixed.outcome, 'Fail');
  assert.equal(fixed.figures.limitMs, 200);

  const rand = lcg(5);
  const faster = sequentialLatency(
    { canary: { latency: latencies(rand, 1000, 0, 0.1) }, baseline: { latency: latencies(rand, 9000, 300, 0.1) } },
    { condition: { op: 'below', reference: 'baseline', by: 100 }, quantile: 0.5 },
  );
  assert.equal(faster.outcome, 'Fail');
  assert.ok(faster.figures.limitMs! < faster.figures.baselineQuantileMs!);
});

test('no baseline data: no bound, no Fail, Inconclusive', () => {
  const canary: HistogramCounts = {};
  record(canary, 5000, 100);
  const j = sequentialLatency(
    { canary: { latency: canary }, baseline: { latency: {} } },
    { condition: rule, quantile: 0.95 },
  );
  assert.equal(j.outcome, 'Inconclusive');
  assert.equal(j.figures.limitMs, null);
});
