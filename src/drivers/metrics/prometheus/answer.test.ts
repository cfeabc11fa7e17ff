import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readAnswer } from './answer.ts';

const vector = (value: string) => ({
  status: 'success',
  data: { resultType: 'vector', result: [{ metric: {}, value: [1, value] }] },
});

test('a sample is a number; NaN (0/0) is no data; any other text is an error, never "no data" forever', () => {
  assert.deepEqual(readAnswer(200, vector('0.25'), 'q'), { kind: 'value', value: 0.25 });
  assert.deepEqual(readAnswer(200, vector('NaN'), 'q'), { kind: 'noData' });
  assert.deepEqual(readAnswer(200, vector('high'), 'q'), {
    kind: 'error',
    message: 'query q returned "high", which is not a number',
  });
  assert.deepEqual(readAnswer(200, vector(''), 'q'), {
    kind: 'error',
    message: 'query q returned "", which is not a number',
  });
  assert.equal(readAnswer(200, vector('+Inf'), 'q').kind, 'error');
});
