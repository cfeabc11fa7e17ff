import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlagVerdict } from '../core/flags/flag-judge.ts';
import { VariantSeries } from './variant-series.ts';

const verdict = (variant: string, outcome: 'Pass' | 'Fail' | 'Inconclusive') =>
  ({ variant, judgment: { outcome, reason: outcome } }) as unknown as FlagVerdict;

test('samples at most once per sampleMs, keeps a Fail, counts per interval, and holds at most capacity', () => {
  const s = new VariantSeries({ sampleMs: 1000, capacity: 3 });
  assert.equal(s.of('f'), null);
  s.record('f', 'production', 'off', 0, { on: { requests: 10, errors: 1 } }, [verdict('on', 'Inconclusive')]);
  s.record('f', 'production', 'off', 500, { on: { requests: 20, errors: 2 } }, [verdict('on', 'Inconclusive')]);
  s.record('f', 'production', 'off', 1000, { on: { requests: 30, errors: 3 } }, [verdict('on', 'Pass')]);
  s.record('f', 'production', 'off', 1200, { on: { requests: 40, errors: 9 } }, [verdict('on', 'Fail')]);
  let v = s.of('f')!;
  assert.deepEqual(v.at, [0, 1000, 1200]);
  assert.deepEqual(v.variants[0]!.requests, [10, 20, 10]);
  assert.deepEqual(v.variants[0]!.errors, [1, 2, 6]);
  assert.deepEqual(v.variants[0]!.outcome, ['Inconclusive', 'Pass', 'Fail']);
  // The proxy started again: its counts are taken as they are; the oldest sample goes.
  s.record('f', 'production', 'off', 5000, { on: { requests: 4, errors: 0 }, off: { requests: 5, errors: 0 } }, []);
  v = s.of('f')!;
  assert.deepEqual(v.at, [1000, 1200, 5000]);
  assert.deepEqual(
    v.variants.map((x) => [x.variant, x.requests, x.outcome]),
    [
      ['off', [0, 0, 5], [null, null, null]],
      ['on', [20, 10, 4], ['Pass', 'Fail', null]],
    ],
  );
});
