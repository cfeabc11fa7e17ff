import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logGamma, normalCdf, normalQuantile } from './special.ts';

// Reference values from scipy 1.17 (scipy.stats.norm, scipy.special.gammaln).
const close = (got: number, want: number, rel: number) =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${got} vs ${want}`);

test('normalCdf matches scipy to 1e-12 relative, far into the tail', () => {
  close(normalCdf(-1.96), 0.024997895148220435, 1e-12);
  close(normalCdf(-5), 2.866515718791933e-7, 1e-12);
  close(normalCdf(-10), 7.61985302416047e-24, 1e-12);
  close(normalCdf(-30), 4.906713927147908e-198, 1e-10);
  close(normalCdf(0.3), 0.6179114221889526, 1e-14);
  close(normalCdf(2.5), 0.9937903346742238, 1e-14);
});

test('normalQuantile matches scipy and refuses p outside (0, 1)', () => {
  close(normalQuantile(0.99), 2.3263478740408408, 1e-13);
  close(normalQuantile(0.975), 1.959963984540054, 1e-13);
  close(normalQuantile(1e-10), -6.361340902404056, 1e-12);
  assert.throws(() => normalQuantile(1), /\(0, 1\)/);
});

test('logGamma matches scipy', () => {
  close(logGamma(0.5), 0.5723649429247, 1e-13);
  close(logGamma(10), 12.801827480081469, 1e-13);
  close(logGamma(1e5 + 0.5), 1051293.4654351394, 1e-14);
  close(logGamma(0.001), 6.907178885383853, 1e-12);
});
