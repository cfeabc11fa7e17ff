import assert from 'node:assert/strict';
import { test } from 'node:test';
import { record } from '../analysis/histogram.ts';
import { flagFailEvent, flagRollbackLog, judgeFlag, tallySince } from './flag-judge.ts';
import { emptyFlagSet, reduceFlags } from './flag-set.ts';
import { rulePercent } from './ramp.ts';
import type { FeatureFlag } from './model.ts';

const flag: FeatureFlag = {
  name: 'new-checkout',
  type: 'release',
  owner: null,
  description: null,
  lifetimeDays: 40,
  variants: { on: true, off: false },
  defaultVariant: 'off',
  offVariant: 'off',
  environments: {
    production: {
      enabled: true,
      rules: [
        {
          name: 'ramp',
          when: [],
          segments: [],
          rollout: { percent: 20, stickiness: 'default', groupId: 'new-checkout' },
          serve: 'on',
        },
      ],
    },
  },
  rollbackContract: {
    service: 'checkout',
    environment: 'production',
    stickiness: { header: 'x-user-id' },
    errorRate: { by: 0.01, times: 1 },
    alpha: 0.005,
    minSamples: 50,
  },
};

test('a variant failing 10% against an off variant failing none is a Fail on evidence; the log names the rules and figures', () => {
  const [v] = judgeFlag(flag, { on: { requests: 400, errors: 40 }, off: { requests: 1600, errors: 0 } });
  assert.equal(v?.judgment.outcome, 'Fail');
  const log = flagRollbackLog(flag, v!, 1000);
  assert.equal(log.trigger, 'errorRate: on above off × 1 + 0.01');
  assert.deepEqual(
    [log.figures.rule, log.figures.requests, log.figures.errors, log.figures.offRequests, log.percent, log.environment],
    ['ramp', 400, 40, 1600, 20, 'production'],
  );
  assert.ok(Number(log.figures.lowerBound) > Number(log.figures.limit));
});

test('equal error rates never fail, and pass only with enough requests; no contract, no verdict', () => {
  const few = judgeFlag(flag, { on: { requests: 20, errors: 0 }, off: { requests: 80, errors: 0 } });
  assert.equal(few[0]?.judgment.outcome, 'Inconclusive');
  const many = judgeFlag(flag, { on: { requests: 5000, errors: 5 }, off: { requests: 20000, errors: 20 } });
  assert.equal(many[0]?.judgment.outcome, 'Pass');
  const { rollbackContract: _c, ...without } = flag;
  assert.deepEqual(judgeFlag(without, { on: { requests: 400, errors: 400 }, off: { requests: 10, errors: 0 } }), []);
  assert.deepEqual(judgeFlag(flag, { off: { requests: 100, errors: 0 } }), [], 'no served variant with traffic');
});

const slowFlag: FeatureFlag = {
  ...flag,
  environments: {
    production: {
      enabled: true,
      rules: [
        {
          name: 'ramp',
          when: [],
          segments: [],
          ramp: { from: 0, to: 100, start: 0, end: 100_000, stickiness: 'default', groupId: 'new-checkout' },
          serve: 'on',
        },
      ],
    },
  },
  rollbackContract: {
    ...flag.rollbackContract!,
    latency: [{ name: 'latency_p99', metric: 'latency_p99', failIf: { op: 'above', reference: 'baseline', by: 50 } }],
  },
};

/** A histogram of n requests at each of these latencies (ms). */
const hist = (n: number, ...ms: number[]) => {
  const h = {};
  for (const x of ms) record(h, x, n);
  return h;
};

test('a variant 200 ms slower than off fails the latency rule on evidence; the log names the rule and figures', () => {
  const tallies = {
    on: { requests: 3000, errors: 0, latency: hist(1000, 210, 220, 230) },
    off: { requests: 3000, errors: 0, latency: hist(1000, 10, 20, 30) },
  };
  const failed = judgeFlag(slowFlag, tallies).find((v) => v.judgment.outcome === 'Fail');
  assert.ok(failed !== undefined && failed.rule !== 'errorRate');
  const log = flagRollbackLog(slowFlag, failed, 40_000);
  assert.equal(log.trigger, 'latency_p99: on above off + 50.0ms');
  assert.equal(log.percent, 40, 'the ramp at 40 s of 100 s');
  assert.ok(Number(log.figures.quantileMs) > 200 && Number(log.figures.offQuantileMs) < 40, JSON.stringify(log));
  assert.ok(Number(log.figures.limitMs) < 200 && Number(log.figures.eValue) >= Number(log.figures.eThreshold));
});

test('equally fast variants never fail the latency rule, and pass with enough requests', () => {
  const few = judgeFlag(slowFlag, {
    on: { requests: 10, errors: 0, latency: hist(10, 12) },
    off: { requests: 10, errors: 0, latency: hist(10, 12) },
  });
  assert.ok(few.every((v) => v.judgment.outcome === 'Inconclusive'));
  const many = judgeFlag(slowFlag, {
    on: { requests: 3000, errors: 0, latency: hist(1000, 10, 12, 14) },
    off: { requests: 3000, errors: 0, latency: hist(1000, 10, 12, 14) },
  });
  assert.deepEqual(
    many.map((v) => [v.rule === 'errorRate' ? v.rule : v.rule.name, v.judgment.outcome]),
    [
      ['errorRate', 'Pass'],
      ['latency_p99', 'Pass'],
    ],
  );
});

test('counts since a mark subtract the histograms bucket by bucket', () => {
  const mark = { requests: 100, errors: 1, latency: hist(100, 10) };
  const now = { requests: 150, errors: 3, latency: { ...hist(100, 10), ...hist(50, 300) } };
  const since = tallySince(now, mark);
  assert.deepEqual([since.requests, since.errors], [50, 2]);
  assert.deepEqual(since.latency, hist(50, 300));
});

test('onFail: pause freezes the ramp at its percent then and holds it; a person resuming (on its schedule) or setting it ends the hold', () => {
  const paused: FeatureFlag = { ...slowFlag, rollbackContract: { ...slowFlag.rollbackContract!, onFail: 'pause' } };
  const tallies = {
    on: { requests: 3000, errors: 0, latency: hist(1000, 210, 220, 230) },
    off: { requests: 3000, errors: 0, latency: hist(1000, 10, 20, 30) },
  };
  const failed = judgeFlag(paused, tallies).find((v) => v.judgment.outcome === 'Fail')!;
  assert.equal(flagFailEvent(slowFlag, failed, 40_000).type, 'flag.rolledBack', 'off is the default');
  const event = flagFailEvent(paused, failed, 40_000);
  assert.equal(event.type, 'flag.paused');
  let set = reduceFlags(emptyFlagSet(), { type: 'flag.applied', flag: paused, file: null, at: 0, actor: 'a', seq: 1 });
  set = reduceFlags(set, { ...event, at: 40_000, actor: 'sluice-controller', seq: 2 });
  const env = set.flags['new-checkout']!.flag.environments.production!;
  assert.equal(env.enabled, true, 'still on');
  assert.deepEqual(
    [env.paused?.at, env.paused?.trigger, env.paused?.rule, env.paused?.percent, env.paused?.ramp?.rule],
    [40_000, 'latency_p99: on above off + 50.0ms', 'ramp', 40, 'ramp'],
  );
  assert.deepEqual(env.rules[0]?.rollout?.percent, 40);
  assert.equal(env.rules[0]?.ramp, undefined, 'the ramp no longer moves');
  assert.equal(rulePercent(env.rules[0]!, 90_000), 40, 'still 40% later, where the ramp would be at 90%');
  const resumed = reduceFlags(set, {
    type: 'flag.resumed',
    flag: 'new-checkout',
    environment: 'production',
    reason: null,
    at: 70_000,
    actor: 'a',
    seq: 3,
  }).flags['new-checkout']!.flag.environments.production!;
  assert.equal(resumed.paused, undefined);
  assert.deepEqual(resumed.rules[0]?.ramp, {
    ...slowFlag.environments.production!.rules[0]!.ramp!,
    start: 30_000,
    end: 130_000,
  });
  assert.equal(
    rulePercent(resumed.rules[0]!, 70_000),
    40,
    'resumed 30 s later: on from 40%, its schedule shifted by 30 s',
  );
  assert.equal(rulePercent(resumed.rules[0]!, 80_000), 50);
  set = reduceFlags(set, {
    type: 'flag.percentSet',
    flag: 'new-checkout',
    environment: 'production',
    rule: 'ramp',
    percent: 50,
    reason: null,
    at: 100_000,
    actor: 'a',
    seq: 3,
  });
  const setTo = set.flags['new-checkout']!.flag.environments.production!;
  assert.equal(setTo.paused, undefined);
  assert.equal(setTo.rules[0]?.rollout?.percent, 50);
});
