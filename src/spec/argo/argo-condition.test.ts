import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  complementary,
  failIfFromFailure,
  failIfFromSuccess,
  parseCondition,
  type ParsedCondition,
} from './argo-condition.ts';
import { parseGoDuration, parsePauseDuration } from './argo-values.ts';

function parsed(text: string): ParsedCondition {
  const c = parseCondition(text);
  assert.ok(!('refused' in c), `${text}: ${JSON.stringify(c)}`);
  return c;
}

test('one comparison of result with a number, either way round, through asFloat and a selector', () => {
  assert.deepEqual(parsed('result[0] >= 0.95'), { selector: '[0]', op: '>=', value: 0.95 });
  assert.deepEqual(parsed('asFloat(result) > 0.02'), { selector: '', op: '>', value: 0.02 });
  assert.deepEqual(parsed(' 10 <= result.data.errors '), { selector: '.data.errors', op: '>=', value: 10 });
  assert.deepEqual(parsed('result < -1.5e3'), { selector: '', op: '<', value: -1500 });
});

test('anything else is refused with the reason', () => {
  for (const text of [
    'result == true',
    "result == 'It worked!'",
    'result.ok && result.successPercent >= 0.90',
    'all(result, # < 1000)',
    'isNaN(result)',
    'len(result) > 0',
    'result[0] >= args.x',
  ]) {
    const c = parseCondition(text);
    assert.ok('refused' in c, text);
    assert.match(c.refused, /is not one comparison of result with a number/);
  }
});

test('a success condition fails below or above it; the boundary is reported when it moves', () => {
  assert.deepEqual(failIfFromSuccess(parsed('result[0] >= 0.95')), { failIf: { below: 0.95 } });
  assert.deepEqual(failIfFromSuccess(parsed('result <= 5')), { failIf: { above: 5 } });
  const strict = failIfFromSuccess(parsed('result > 0.9'));
  assert.deepEqual(strict.failIf, { below: 0.9 });
  assert.match(strict.boundary!, /exactly 0\.9 fails in Argo .* passes in Sluice/);
  assert.deepEqual(failIfFromFailure(parsed('result[0] > 0.05')), { failIf: { above: 0.05 } });
  assert.match(failIfFromFailure(parsed('result[0] >= 10')).boundary!, /exactly 10 fails in Argo \(>=\)/);
});

test('complementary conditions leave no Inconclusive gap', () => {
  assert.ok(complementary(parsed('result >= 0.9'), parsed('result < 0.9')));
  assert.ok(!complementary(parsed('result[0] >= 0.90'), parsed('result[0] < 0.50')));
});

test('Go durations and pause durations', () => {
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('500ms'), 500);
  assert.equal(parseGoDuration('5'), null);
  assert.equal(parsePauseDuration(15), 15_000);
  assert.equal(parsePauseDuration('40s'), 40_000);
  assert.equal(parsePauseDuration('10'), 10_000);
  assert.equal(parsePauseDuration('soon'), null);
});
