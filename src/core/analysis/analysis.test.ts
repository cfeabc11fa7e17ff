import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contract, STEPS } from '../testing/fixtures.ts';
import { record } from './histogram.ts';
import { judgeRule, type Observation } from './judge.ts';
import { phaseOf } from '../release/state.ts';
import { deployed } from '../testing/test-driver.ts';
import type { BurnRateRule, Measurement, MetricsErrorPolicy, QueryRule, Rule, SignalRule } from '../types.ts';

const stats = (requests: number, errors: number, latencyMs = 5): Measurement => {
  const latency = {};
  record(latency, latencyMs, requests);
  return { kind: 'stats', stats: { requests, errors, latency, windowMs: 10_000 } };
};
const obs = (extra: Partial<Observation> = {}): Observation => ({
  canary: stats(100, 0),
  baseline: stats(1000, 0),
  canaryCrashes: 0,
  baselineCrashes: 0,
  ...extra,
});

/** A canary release of 2.0.0 at 1%, ready for observations. */
function releasing(rules: Rule[], metricsErrors: MetricsErrorPolicy = { limit: 3, action: 'pause' }) {
  const d = deployed();
  d.send(
    {
      type: 'startRelease',
      kind: 'canary',
      to: { key: '2', version: '2.0.0' },
      steps: STEPS,
      contract: contract({ rules, metricsErrors }),
    },
    100,
  );
  d.send({ type: 'targetReady', key: '2', instances: [] }, 200);
  const observe = (observation: Observation, at: number) =>
    d.send({ type: 'observation', observation }, at, 'sluice-controller');
  return { d, observe };
}

const success: QueryRule = {
  name: 'success-rate',
  metric: 'query',
  query: 'q',
  failIf: { op: 'below', reference: 'baseline', by: 0.01 },
};

test('a query rule compares the canary value with the baseline value, and no data is not zero', () => {
  const at = 1;
  const value = (v: number) => ({ kind: 'value' as const, value: v });
  const pass = judgeRule(
    success,
    contract(),
    obs({ queries: { 'success-rate': { canary: value(0.995), baseline: value(0.999) } } }),
    at,
  );
  assert.equal(pass.outcome, 'Pass');
  assert.equal(pass.threshold, 0.989);
  const fail = judgeRule(
    success,
    contract(),
    obs({ queries: { 'success-rate': { canary: value(0.95), baseline: value(0.999) } } }),
    at,
  );
  assert.equal(fail.outcome, 'Fail');
  assert.match(fail.reason, /success-rate canary 0\.95, baseline 0\.999: fails "below baseline − 0\.01"/);
  const empty = judgeRule(
    success,
    contract(),
    obs({ queries: { 'success-rate': { canary: { kind: 'noData' }, baseline: value(1) } } }),
    at,
  );
  assert.equal(empty.outcome, 'Inconclusive');
  assert.equal(empty.reason, 'the canary query returned no data');
  const broken = judgeRule(
    success,
    contract(),
    obs({
      queries: { 'success-rate': { canary: value(1), baseline: { kind: 'error', message: 'timeout after 1000ms' } } },
    }),
    at,
  );
  assert.equal(broken.reason, 'baseline query failed: timeout after 1000ms');
});

test('a burn-rate rule fails only when both windows of a pair burn faster than the factor', () => {
  const rule: BurnRateRule = {
    name: 'budget',
    metric: 'burn_rate',
    objective: 0.999,
    windows: [{ longMs: 60_000, shortMs: 5_000, factor: 14.4 }],
  };
  // 2% errors = 20× the 0.1% budget over both windows.
  const burning = judgeRule(
    rule,
    contract(),
    obs({ canaryWindows: { 60_000: stats(1000, 20), 5_000: stats(100, 2) } }),
    1,
  );
  assert.equal(burning.outcome, 'Fail');
  assert.equal(burning.threshold, 14.4);
  assert.match(burning.reason, /20\.0× over 60s and 20\.0× over 5s: above 14\.4×/);
  // A blip in the short window alone does not fail; the long window is at 1×.
  const blip = judgeRule(
    rule,
    contract(),
    obs({ canaryWindows: { 60_000: stats(10_000, 10), 5_000: stats(100, 5) } }),
    1,
  );
  assert.equal(blip.outcome, 'Pass');
  const early = judgeRule(rule, contract(), obs({ canaryWindows: { 60_000: stats(10, 1), 5_000: stats(10, 1) } }), 1);
  assert.equal(early.outcome, 'Inconclusive');
  assert.match(early.reason, /10 of 50 canary requests in the 60s window/);
});

test('a signal rule fails once enough signals arrived within its window', () => {
  const rule: SignalRule = {
    name: 'complaints',
    metric: 'signal',
    signal: 'customer_complaint',
    count: 3,
    withinMs: 60_000,
  };
  const at = 100_000;
  assert.equal(
    judgeRule(rule, contract(), obs({ signals: { customer_complaint: [10_000, 50_000, 90_000] } }), at).outcome,
    'Pass',
    'one is too old',
  );
  const v = judgeRule(rule, contract(), obs({ signals: { customer_complaint: [50_000, 90_000, 99_000] } }), at);
  assert.equal(v.outcome, 'Fail');
  assert.equal(v.reason, '3 customer_complaint signal(s) within 60s: reaches the limit of 3');
});

test("a failing metrics provider pauses the release after the contract's limit, never passes it", () => {
  const { d, observe } = releasing([success]);
  const down: Observation = obs({
    canary: { kind: 'error', message: 'connection refused' },
    queries: { 'success-rate': { canary: { kind: 'error', message: 'connection refused' }, baseline: null } },
  });
  observe(down, 1_000);
  observe(down, 2_000);
  assert.equal(phaseOf(d.state), 'Progressing');
  observe(down, 3_000);
  assert.equal(phaseOf(d.state), 'Paused');
  assert.match(
    d.state.release!.pause!.detail,
    /the metrics provider failed 3 evaluations in a row: connection refused/,
  );
  d.send({ type: 'command', command: { kind: 'resume' } }, 3_500);
  assert.equal(d.state.release!.metricsErrors, 0, 'a resume starts the count again');
});

test('with action rollback, a failing metrics provider rolls the release back', () => {
  const { d, observe } = releasing([success], { limit: 2, action: 'rollback' });
  const down: Observation = obs({
    queries: { 'success-rate': { canary: { kind: 'error', message: 'HTTP 503' }, baseline: null } },
  });
  observe(down, 1_000);
  observe(
    obs({
      queries: { 'success-rate': { canary: { kind: 'value', value: 1 }, baseline: { kind: 'value', value: 1 } } },
    }),
    2_000,
  );
  observe(down, 3_000);
  assert.equal(phaseOf(d.state), 'Progressing', 'a good evaluation breaks the streak');
  observe(down, 4_000);
  assert.equal(phaseOf(d.state), 'RolledBack');
  assert.equal(d.state.release!.rollback!.trigger, 'metrics');
  assert.deepEqual(d.state.weights, { '1': 100, '2': 0 });
});
