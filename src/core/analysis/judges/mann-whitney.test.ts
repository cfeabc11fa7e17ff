import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mannWhitney } from './mann-whitney.ts';

interface Fixture {
  name: string;
  canary: number[];
  baseline: number[];
  confLevel: number;
  scipy: { u: number; pValue: number };
  r: { w: number; pValue: number; estimate: number; interval: [number, number] };
  estimateUnique: boolean;
}
const { cases } = JSON.parse(readFileSync(new URL('./fixtures/mann-whitney.json', import.meta.url), 'utf8')) as {
  cases: Fixture[];
};

const relClose = (got: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${what}: ${got} vs ${want}`);
const absClose = (got: number, want: number, tol: number, what: string) =>
  assert.ok(Math.abs(got - want) <= tol, `${what}: ${got} vs ${want}`);

for (const c of cases) {
  test(`matches scipy and R: ${c.name}`, () => {
    const r = mannWhitney(c.canary, c.baseline, c.confLevel);
    assert.equal(r.u, c.scipy.u);
    assert.equal(r.u, c.r.w);
    relClose(r.pValue, c.scipy.pValue, 1e-6, 'p vs scipy');
    relClose(r.pValue, c.r.pValue, 1e-6, 'p vs R');
    absClose(r.interval[0], c.r.interval[0], 1e-6, 'lower');
    absClose(r.interval[1], c.r.interval[1], 1e-6, 'upper');
    if (c.estimateUnique) absClose(r.estimate, c.r.estimate, 1e-6, 'estimate');
    else assert.ok(r.estimate >= r.interval[0] && r.estimate <= r.interval[1]);
  });
}

test('identical samples: U at its mean, p = 1, zero shift', () => {
  const r = mannWhitney([1, 2, 3], [1, 2, 3]);
  assert.equal(r.u, 4.5);
  assert.equal(r.pValue, 1);
  assert.equal(r.estimate, 0);
});

test('all values tied: p = 1 and a point interval, never NaN', () => {
  const r = mannWhitney([0, 0, 0], [0, 0]);
  assert.equal(r.pValue, 1);
  assert.deepEqual(r.interval, [0, 0]);
});

test('empty or non-finite samples are refused with a reason', () => {
  assert.throws(() => mannWhitney([], [1]), /at least one value/);
  assert.throws(() => mannWhitney([Number.NaN], [1]), /finite/);
});

test('large samples stay fast: 2,000 × 2,000 values (4 million pairs)', () => {
  const a = Array.from({ length: 2000 }, (_, i) => Math.sin(i) * 10 + 1);
  const b = Array.from({ length: 2000 }, (_, i) => Math.cos(i * 1.3) * 10);
  const t0 = performance.now();
  const r = mannWhitney(a, b);
  assert.ok(performance.now() - t0 < 2000);
  assert.ok(r.interval[0] < r.estimate && r.estimate < r.interval[1]);
});
