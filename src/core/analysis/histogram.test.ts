import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf, mean, merge, quantile, record, total } from './histogram.ts';
import type { HistogramCounts } from '../types.ts';

test('quantiles read back within 2.5% of the true value', () => {
  const h: HistogramCounts = {};
  const values = Array.from({ length: 10_000 }, (_, i) => 1 + i * 0.1); // 1 .. 1000.9 ms
  for (const v of values) record(h, v);
  for (const q of [0.5, 0.9, 0.95, 0.99]) {
    const truth = values[Math.ceil(q * values.length) - 1]!;
    const got = quantile(h, q)!;
    assert.ok(Math.abs(got - truth) / truth < 0.025, `q${q}: ${got} vs ${truth}`);
  }
  assert.equal(total(h), 10_000);
  assert.ok(Math.abs(mean(h)! - 500.95) / 500.95 < 0.025);
});

test('empty histograms have no quantile, extremes are clamped, merge adds', () => {
  assert.equal(quantile({}, 0.5), null);
  assert.equal(mean({}), null);
  assert.equal(bucketOf(0), 0);
  assert.equal(bucketOf(-5), 0);
  assert.equal(bucketOf(1e12), bucketOf(1e13));
  const a: HistogramCounts = {};
  const b: HistogramCounts = {};
  record(a, 10, 3);
  record(b, 10, 2);
  record(b, 100);
  assert.equal(total(merge(a, b)), 6);
});
