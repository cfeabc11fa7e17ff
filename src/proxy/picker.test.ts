import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CohortRoutes, StickyRanges, WeightedPicker, stickyPoint } from './picker.ts';

function countPicks(picker: WeightedPicker, n: number, backends: number): number[] {
  const counts = new Array<number>(backends).fill(0);
  for (let i = 0; i < n; i++) counts[picker.next()]!++;
  return counts;
}

test('a 1% backend gets exactly 10 of 1000 picks', () => {
  assert.deepEqual(countPicks(new WeightedPicker([1, 99]), 1000, 2), [10, 990]);
  assert.deepEqual(countPicks(new WeightedPicker([99, 1]), 1000, 2), [990, 10]);
});

test('splits are exact for uneven and fractional weights', () => {
  assert.deepEqual(countPicks(new WeightedPicker([10, 50, 40]), 1000, 3), [100, 500, 400]);
  assert.deepEqual(countPicks(new WeightedPicker([0.5, 99.5]), 1000, 2), [5, 995]);
});

test('the small share is spread out, not bunched', () => {
  const picker = new WeightedPicker([10, 90]);
  const at: number[] = [];
  for (let i = 0; i < 100; i++) if (picker.next() === 0) at.push(i);
  assert.equal(at.length, 10);
  for (let k = 1; k < at.length; k++) assert.equal(at[k]! - at[k - 1]!, 10);
});

test('a weight of 0 is never picked; all zeros pick nothing', () => {
  assert.deepEqual(countPicks(new WeightedPicker([0, 100]), 50, 2), [0, 50]);
  assert.equal(new WeightedPicker([0, 0]).next(), -1);
});

test('sticky points are stable and spread over [0,1)', () => {
  assert.equal(stickyPoint('user-42'), stickyPoint('user-42'));
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const p = stickyPoint(`user-${i}`);
    assert.ok(p >= 0 && p < 1);
    buckets[Math.floor(p * 10)]!++;
  }
  for (const b of buckets) assert.ok(b > 900 && b < 1100, `bucket holds ${b} of ~1000`);
});

test('sticky users in the first 10% stay on the first backend when it grows to 50%', () => {
  const at10 = new StickyRanges([10, 90]);
  const at50 = new StickyRanges([50, 50]);
  let onCanary = 0;
  for (let i = 0; i < 10_000; i++) {
    const p = stickyPoint(`user-${i}`);
    if (at10.pick(p) === 0) {
      onCanary++;
      assert.equal(at50.pick(p), 0, `user-${i} moved off the canary`);
    }
  }
  assert.ok(onCanary > 900 && onCanary < 1100, `${onCanary} of 10000 users at 10%`);
});

test('sticky distribution follows the weights and skips zero-weight backends', () => {
  const ranges = new StickyRanges([0, 30, 70]);
  const counts = [0, 0, 0];
  for (let i = 0; i < 10_000; i++) counts[ranges.pick(stickyPoint(`u${i}`))]!++;
  assert.equal(counts[0], 0);
  assert.ok(Math.abs(counts[1]! - 3000) < 200, `30% backend got ${counts[1]}`);
  assert.equal(ranges.pick(0.9999999999), 2);
  assert.equal(new StickyRanges([0, 0]).pick(0.5), -1);
});

test('cohort routes: the first matching header or cookie route wins, values match exactly', () => {
  const routes = new CohortRoutes([
    { index: 1, match: { header: 'X-Cohort', value: 'beta' } },
    { index: 0, match: { cookie: 'cohort', value: 'beta' } },
    { index: 2, match: { header: 'x-cohort', value: 'internal' } },
  ]);
  assert.deepEqual([...routes.headers], ['x-cohort']);
  assert.equal(routes.match(new Map([['x-cohort', 'beta']]), 'cohort=beta'), 1);
  assert.equal(routes.match(new Map([['x-cohort', 'internal']]), undefined), 2);
  assert.equal(routes.match(undefined, 'a=1; cohort=beta'), 0);
  assert.equal(routes.match(new Map([['x-cohort', 'Beta']]), 'cohort=betamax'), -1);
  assert.equal(routes.match(undefined, undefined), -1);
});
