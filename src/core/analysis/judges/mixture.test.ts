import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logMixtureEValue, lowerBound, mostRejectedBelow, rejects, upperBound } from './mixture.ts';

/** The mixture e-value by numerical integration over p = sin²θ (which removes the prior's endpoint singularities). */
function integrated(s: number, n: number, p0: number): number {
  const steps = 20_000;
  const h = Math.PI / 2 / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const p = Math.sin(i * h) ** 2;
    const term = (k: number, q: number) => (k === 0 ? 0 : k * Math.log(q)); // 0·log 0 = 0
    const lr = Math.exp(term(s, p / p0) + term(n - s, (1 - p) / (1 - p0)));
    sum += (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2) * lr;
  }
  return ((sum * h) / 3) * (2 / Math.PI);
}

test('the closed-form mixture e-value equals the Beta(½,½) mixture of likelihood ratios', () => {
  for (const [s, n, p0] of [
    [3, 100, 0.01],
    [0, 500, 0.01],
    [40, 200, 0.1],
    [10, 10, 0.3],
  ] as const) {
    const want = integrated(s, n, p0);
    const got = Math.exp(logMixtureEValue(s, n, p0));
    assert.ok(Math.abs(got - want) / want < 1e-6, `s=${s} n=${n} p0=${p0}: ${got} vs ${want}`);
  }
});

test('bounds bracket the estimate, tighten with data, and are where the e-value crosses 1/α', () => {
  const alpha = 0.01;
  const u = upperBound(10, 1000, alpha);
  const l = lowerBound(10, 1000, alpha);
  assert.ok(l < 0.01 && 0.01 < u);
  assert.ok(upperBound(100, 10_000, alpha) < u);
  assert.ok(rejects(10, 1000, u * 1.000001, alpha) && !rejects(10, 1000, u * 0.9999, alpha));
  assert.ok(rejects(10, 1000, l * 0.9999, alpha) && !rejects(10, 1000, l * 1.0001, alpha));
  assert.equal(upperBound(0, 0, alpha), 1);
  assert.equal(lowerBound(0, 0, alpha), 0);
});

test('anytime validity: looking after every 10 draws, the sequence misses the true rate in at most ~α of streams', () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alpha = 0.05;
  const p = 0.02;
  let missed = 0;
  const streams = 400;
  for (let k = 0; k < streams; k++) {
    let s = 0;
    for (let n = 1; n <= 3000; n++) {
      if (rand() < p) s++;
      if (n % 10 === 0 && rejects(s, n, p, alpha)) {
        missed++;
        break;
      }
    }
  }
  assert.ok(missed / streams <= alpha, `missed in ${missed} of ${streams} streams`);
});

test('mostRejectedBelow: the largest count the sequence rejects as too few for the rate', () => {
  const k = mostRejectedBelow(1000, 0.05, 0.01);
  assert.ok(k >= 0 && k < 50);
  assert.ok(rejects(k, 1000, 0.05, 0.01));
  assert.ok(!rejects(k + 1, 1000, 0.05, 0.01));
  assert.equal(mostRejectedBelow(20, 0.05, 0.01), -1, 'with 20 draws, even 0 of 20 is plausible for 5%');
});
