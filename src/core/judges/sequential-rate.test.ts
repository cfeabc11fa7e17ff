import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition } from '../types.ts';
import { sequentialRate } from './sequential-rate.ts';

const rule: Condition = { op: 'above', reference: 'baseline', by: 0.002 };

function lcg(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test('a canary failing every request fails within 20 requests (baseline at 9× its traffic)', () => {
  let failedAt = 0;
  for (let n = 1; n <= 20 && failedAt === 0; n++) {
    const j = sequentialRate({ canary: { requests: n, errors: n }, baseline: { requests: 9 * n, errors: 0 } }, { condition: rule });
    if (j.outcome === 'Fail') failedAt = n;
  }
  assert.ok(failedAt > 0 && failedAt <= 20, `failed at ${failedAt}`);
});

test('the figures and the reason show why it failed', () => {
  const j = sequentialRate({ canary: { requests: 500, errors: 25 }, baseline: { requests: 4500, errors: 5 } }, { condition: rule });
  assert.equal(j.outcome, 'Fail');
  assert.equal(j.figures.canaryRate, 0.05);
  assert.ok(j.figures.eValue >= j.figures.eThreshold);
  assert.equal(j.figures.eThreshold, 2 / 0.005);
  assert.ok(j.figures.canaryInterval[0] > j.figures.limit, 'the canary lower bound clears the limit');
  assert.ok(Math.abs(j.figures.limit - (j.figures.baselineInterval![1] + 0.002)) < 1e-12);
  assert.match(j.reason, /canary 5\.00% \(25\/500\), baseline 0\.11% \(5\/4500\).*at least .*allows at most/);
});

test('too few requests is Inconclusive, never Pass; enough without a regression is Pass', () => {
  const early = sequentialRate({ canary: { requests: 20, errors: 0 }, baseline: { requests: 180, errors: 0 } }, { condition: rule });
  assert.equal(early.outcome, 'Inconclusive');
  assert.match(early.reason, /50 requests of each revision needed/);
  const later = sequentialRate({ canary: { requests: 2000, errors: 2 }, baseline: { requests: 18000, errors: 18 } }, { condition: rule });
  assert.equal(later.outcome, 'Pass');
  assert.ok(later.figures.eValue <= 1);
});

test('continuous monitoring of canaries exactly at the limit: false Fails stay within α', () => {
  // The hardest healthy case: p_canary = p_baseline with no tolerance (times 1, by 0).
  const alpha = 0.1;
  const rand = lcg(7);
  let failed = 0;
  const releases = 150;
  for (let r = 0; r < releases; r++) {
    const c = { requests: 0, errors: 0 };
    const b = { requests: 0, errors: 0 };
    for (let look = 0; look < 150; look++) {
      for (let i = 0; i < 20; i++) {
        c.requests++;
        if (rand() < 0.02) c.errors++;
      }
      for (let i = 0; i < 180; i++) {
        b.requests++;
        if (rand() < 0.02) b.errors++;
      }
      if (sequentialRate({ canary: c, baseline: b }, { condition: { op: 'above', reference: 'baseline', times: 1 }, alpha }).outcome === 'Fail') {
        failed++;
        break;
      }
    }
  }
  assert.ok(failed / releases <= alpha, `${failed} of ${releases} healthy releases failed`);
});

test('a fixed threshold needs no baseline and spends all of α on the canary', () => {
  const j = sequentialRate({ canary: { requests: 1000, errors: 30 }, baseline: { requests: 0, errors: 0 } }, { condition: { op: 'above', reference: 0.01 } });
  assert.equal(j.outcome, 'Fail');
  assert.equal(j.figures.limit, 0.01);
  assert.equal(j.figures.eThreshold, 1 / 0.005);
  assert.equal(j.figures.baselineInterval, null);
});

test('"below" mirrors "above": a canary significantly under baseline × times − by fails', () => {
  const condition: Condition = { op: 'below', reference: 'baseline', by: 0.02 };
  const j = sequentialRate({ canary: { requests: 1000, errors: 0 }, baseline: { requests: 9000, errors: 900 } }, { condition });
  assert.equal(j.outcome, 'Fail');
  assert.ok(j.figures.canaryInterval[1] < j.figures.limit);
  const same = sequentialRate({ canary: { requests: 1000, errors: 100 }, baseline: { requests: 9000, errors: 900 } }, { condition });
  assert.equal(same.outcome, 'Pass');
});

test('no baseline data yet: the limit is 1 and nothing can fail', () => {
  const j = sequentialRate({ canary: { requests: 10, errors: 10 }, baseline: { requests: 0, errors: 0 } }, { condition: rule });
  assert.equal(j.outcome, 'Inconclusive');
  assert.equal(j.figures.limit, 1);
});
