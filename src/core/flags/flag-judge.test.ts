import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flagRollbackLog, judgeFlag } from './flag-judge.ts';
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
