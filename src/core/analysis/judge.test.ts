import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contract } from '../testing/fixtures.ts';
import { record } from './histogram.ts';
import { judgeRule, type Observation } from './judge.ts';
import type { Measurement, Rule } from '../types.ts';

function stats(requests: number, errors: number, latencyMs: number): Measurement {
  const latency = {};
  record(latency, latencyMs, requests);
  return { kind: 'stats', stats: { requests, errors, latency, windowMs: 10_000 } };
}
const obs = (canary: Measurement, baseline: Measurement): Observation => ({
  canary,
  baseline,
  canaryCrashes: 0,
  baselineCrashes: 0,
});
const errorRule: Rule = { name: 'err', metric: 'error_rate', failIf: { op: 'above', reference: 'baseline', by: 0.01 } };

test('baseline rule fails above baseline + by, with the figures that decided it', () => {
  const v = judgeRule(errorRule, contract(), obs(stats(100, 10, 5), stats(1000, 0, 5)), 1);
  assert.equal(v.outcome, 'Fail');
  assert.equal(v.canary, 0.1);
  assert.equal(v.baseline, 0);
  assert.equal(v.threshold, 0.01);
  assert.equal(v.canarySamples, 100);
  assert.match(v.reason, /canary 10\.00%, baseline 0\.00%/);
});

test('baseline rule passes only when its confidence bound is within the threshold, not on the figure alone', () => {
  // 1% against a limit of 1.5%: inside on the figure, but 100 requests cannot show it.
  const few = judgeRule(errorRule, contract(), obs(stats(100, 1, 5), stats(1000, 5, 5)), 1);
  assert.equal(few.outcome, 'Inconclusive');
  assert.match(few.reason, /not yet shown within it/);
  const many = judgeRule(errorRule, contract(), obs(stats(5000, 10, 5), stats(50_000, 250, 5)), 1);
  assert.equal(many.outcome, 'Pass');
  assert.equal(many.bound?.side, 'atMost');
  assert.ok(
    many.bound!.value <= many.bound!.allowed && many.bound!.allowed <= many.threshold!,
    JSON.stringify(many.bound),
  );
});

test('too few samples is Inconclusive, never Pass', () => {
  const v = judgeRule(errorRule, contract(), obs(stats(49, 49, 5), stats(1000, 0, 5)), 1);
  assert.equal(v.outcome, 'Inconclusive');
  assert.match(v.reason, /49 of 50 canary requests/);
  assert.equal(v.canarySamples, 49);
  assert.equal(v.baselineSamples, 1000, 'the baseline count is reported while the canary gathers data');
  const b = judgeRule(errorRule, contract(), obs(stats(100, 0, 5), stats(10, 0, 5)), 1);
  assert.equal(b.outcome, 'Inconclusive');
  assert.match(b.reason, /baseline/);
});

test('no data and provider errors are Inconclusive with the reason', () => {
  assert.match(judgeRule(errorRule, contract(), obs({ kind: 'noData' }, stats(100, 0, 5)), 1).reason, /no canary data/);
  const e = judgeRule(errorRule, contract(), obs({ kind: 'error', message: 'timeout' }, stats(100, 0, 5)), 1);
  assert.equal(e.outcome, 'Inconclusive');
  assert.match(e.reason, /timeout/);
});

test('latency rules: by in ms and times as a ratio; absolute and below conditions', () => {
  const by: Rule = { name: 'p95', metric: 'latency_p95', failIf: { op: 'above', reference: 'baseline', by: 500 } };
  assert.equal(judgeRule(by, contract(), obs(stats(100, 0, 810), stats(100, 0, 10)), 1).outcome, 'Fail');
  assert.equal(
    judgeRule(by, contract(), obs(stats(100, 0, 400), stats(100, 0, 10)), 1).outcome,
    'Inconclusive',
    'too few to bound a p95',
  );
  assert.equal(judgeRule(by, contract(), obs(stats(400, 0, 400), stats(400, 0, 10)), 1).outcome, 'Pass');
  const times: Rule = { name: 'x2', metric: 'latency_p95', failIf: { op: 'above', reference: 'baseline', times: 2 } };
  assert.equal(judgeRule(times, contract(), obs(stats(100, 0, 25), stats(100, 0, 10)), 1).outcome, 'Fail');
  assert.equal(judgeRule(times, contract(), obs(stats(400, 0, 15), stats(400, 0, 10)), 1).outcome, 'Pass');
  const abs: Rule = { name: 'cap', metric: 'latency_p99', failIf: { op: 'above', reference: 2000 } };
  assert.equal(judgeRule(abs, contract(), obs(stats(100, 0, 2500), { kind: 'noData' }), 1).outcome, 'Fail');
  const rate: Rule = { name: 'rps', metric: 'request_rate', failIf: { op: 'below', reference: 5 } };
  assert.equal(judgeRule(rate, contract(), obs(stats(60, 0, 1), { kind: 'noData' }), 1).outcome, 'Pass');
});

test('instance crashes are judged without a sample minimum', () => {
  const rule: Rule = { name: 'crashes', metric: 'instance_crashes', failIf: { op: 'above', reference: 0 } };
  const v = judgeRule(
    rule,
    contract(),
    { canary: { kind: 'noData' }, baseline: { kind: 'noData' }, canaryCrashes: 1, baselineCrashes: 0 },
    1,
  );
  assert.equal(v.outcome, 'Fail');
});
