import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition } from '../../types.ts';
import { sequentialRate } from './sequential-rate.ts';

const rule: Condition = { op: 'above', reference: 'baseline', by: 0.002 };

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

test('a canary failing every request fails within 20 requests (baseline at 9× its traffic)', () => {
  let failedAt = 0;
  for (let n = 1; n <= 20 && failedAt === 0; n++) {
    const j = sequentialRate(
      { canary: { requests: n, errors: n }, baseline: { requests: 9 * n, errors: 0 } },
      { condition: rule },
    );
    if (j.outcome === 'Fail') failedAt = n;
  }
  assert.ok(failedAt > 0 && failedAt <= 20, `failed at ${failedAt}`);
});

test('the figures and the reason show why it failed', () => {
  const j = sequentialRate(
    { canary: { requests: 500, errors: 25 }, baseline: { requests: 4500, errors: 5 } },
    { condition: rule },
  );
  assert.equal(j.outcome, 'Fail');
  assert.equal(j.figures.canaryRate, 0.05);
  assert.ok(j.figures.eValue >= j.figures.eThreshold);
  assert.equal(j.figures.eThreshold, 2 / 0.005);
  assert.ok(j.figures.canaryInterval[0] > j.figures.limit, 'the canary lower bound clears the limit');
  assert.ok(Math.abs(j.figures.limit - (j.figures.baselineInterval![1] + 0.002)) < 1e-12);
  assert.match(
    j.reason,
    /canary 5\.00% \(25\/500 failed\), baseline 0\.11% \(5\/4500\): the canary is at least 1\.8\d% at 99\.5% confidence; the rule allows at most 0\.7\d% \(baseline \+ 0\.20%\)/,
  );
  assert.deepEqual(j.bound.side, 'atLeast');
});

test('too few requests is Inconclusive, never Pass; enough without a regression is Pass', () => {
  const early = sequentialRate(
    { canary: { requests: 20, errors: 0 }, baseline: { requests: 180, errors: 0 } },
    { condition: rule },
  );
  assert.equal(early.outcome, 'Inconclusive');
  assert.match(early.reason, /50 requests of each revision are needed before a Pass/);
  // 0.1% against a limit of 0.3% (+0.2 points): shown only once the canary's upper bound is under it.
  const more = sequentialRate(
    { canary: { requests: 2000, errors: 2 }, baseline: { requests: 18000, errors: 18 } },
    { condition: rule },
  );
  assert.equal(more.outcome, 'Inconclusive');
  const later = sequentialRate(
    { canary: { requests: 20_000, errors: 20 }, baseline: { requests: 180_000, errors: 180 } },
    { condition: rule },
  );
  assert.equal(later.outcome, 'Pass');
  assert.ok(later.figures.eValue <= 1);
  assert.ok(later.bound.value <= later.bound.allowed);
  assert.match(
    later.reason,
    /the canary is at most 0\.\d+% at 99\.5% confidence; the rule allows at most 0\.\d+% \(baseline \+ 0\.20%\)/,
  );
});

test('the README example that was promoted: 9.3% (12/129) against baseline + 2% is never a Pass', () => {
  // Seen before Pass needed evidence: "Pass error_rate canary 9.30% (12/129), baseline 0.00% (0/441)".
  const j = sequentialRate(
    { canary: { requests: 129, errors: 12 }, baseline: { requests: 441, errors: 0 } },
    { condition: { op: 'above', reference: 'baseline', by: 0.02 } },
  );
  assert.notEqual(j.outcome, 'Pass');
});

test('a point estimate above the threshold is never a Pass, whatever the counts', () => {
  const rand = lcg(11);
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(rand() * 20_000);
    const m = 1 + Math.floor(rand() * 20_000);
    const c = { requests: n, errors: Math.floor(rand() * rand() * n) };
    const b = { requests: m, errors: Math.floor(rand() * rand() * rand() * m) };
    const by = rand() * 0.05;
    const j = sequentialRate({ canary: c, baseline: b }, { condition: { op: 'above', reference: 'baseline', by } });
    if (j.outcome === 'Pass') assert.ok(c.errors / n <= b.errors / m + by, JSON.stringify({ c, b, by }));
  }
});

test('Inconclusive says how much more a Pass needs at the current traffic', () => {
  const j = sequentialRate(
    { canary: { requests: 100, errors: 0 }, baseline: { requests: 900, errors: 0 } },
    { condition: { op: 'above', reference: 'baseline', by: 0.02 }, traffic: { canaryRps: 4, baselinePerCanary: 9 } },
  );
  assert.equal(j.outcome, 'Inconclusive');
  assert.ok(j.needs!.canaryRequests! > 200 && j.needs!.canaryRequests! < 800, JSON.stringify(j.needs));
  assert.equal(j.needs!.seconds, j.needs!.canaryRequests! / 4);
  assert.match(j.reason, /about \d+ more canary requests needed, ~\d+ s at 4\.0 req\/s/);
  // After that many more requests at the same figures it does pass.
  const after = 100 + j.needs!.canaryRequests!;
  const k = sequentialRate(
    { canary: { requests: after, errors: 0 }, baseline: { requests: 9 * after, errors: 0 } },
    { condition: { op: 'above', reference: 'baseline', by: 0.02 } },
  );
  assert.equal(k.outcome, 'Pass');
  const bad = sequentialRate(
    { canary: { requests: 100, errors: 3 }, baseline: { requests: 900, errors: 0 } },
    { condition: { op: 'above', reference: 'baseline', by: 0.02 } },
  );
  assert.equal(bad.needs?.canaryRequests, null, 'at 3% against +2% it will not pass');
  assert.match(bad.reason, /will not pass/);
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
      if (
        sequentialRate(
          { canary: c, baseline: b },
          { condition: { op: 'above', reference: 'baseline', times: 1 }, alpha },
        ).outcome === 'Fail'
      ) {
        failed++;
        break;
      }
    }
  }
  assert.ok(failed / releases <= alpha, `${failed} of ${releases} healthy releases failed`);
});

test('a fixed threshold needs no baseline and spends all of α on the canary', () => {
  const j = sequentialRate(
    { canary: { requests: 1000, errors: 30 }, baseline: { requests: 0, errors: 0 } },
    { condition: { op: 'above', reference: 0.01 } },
  );
  assert.equal(j.outcome, 'Fail');
  assert.equal(j.figures.limit, 0.01);
  assert.equal(j.figures.eThreshold, 1 / 0.005);
  assert.equal(j.figures.baselineInterval, null);
});

test('"below" mirrors "above": a canary significantly under baseline × times − by fails', () => {
  const condition: Condition = { op: 'below', reference: 'baseline', by: 0.02 };
  const j = sequentialRate(
    { canary: { requests: 1000, errors: 0 }, baseline: { requests: 9000, errors: 900 } },
    { condition },
  );
  assert.equal(j.outcome, 'Fail');
  assert.ok(j.figures.canaryInterval[1] < j.figures.limit);
  const same = sequentialRate(
    { canary: { requests: 10_000, errors: 1000 }, baseline: { requests: 90_000, errors: 9000 } },
    { condition },
  );
  assert.equal(same.outcome, 'Pass');
  assert.equal(same.bound.side, 'atLeast');
});

test('no baseline data yet: the limit is 1 and nothing can fail', () => {
  const j = sequentialRate(
    { canary: { requests: 10, errors: 10 }, baseline: { requests: 0, errors: 0 } },
    { condition: rule },
  );
  assert.equal(j.outcome, 'Inconclusive');
  assert.equal(j.figures.limit, 1);
});
