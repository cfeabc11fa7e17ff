import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSteps, parseSelector, select } from './selector.ts';

const doc = {
  series: [
    {
      points: [
        [1, 0.5],
        [2, 0.25],
      ],
    },
  ],
  'p95 ms': 310,
  "it's": 1,
  empty: [],
  gone: null,
};

test('parses fields, indexes (negative too) and quoted fields', () => {
  assert.deepEqual(parseSelector('$.series[0].points[-1][1]'), [
    { kind: 'field', name: 'series' },
    { kind: 'index', index: 0 },
    { kind: 'field', name: 'points' },
    { kind: 'index', index: -1 },
    { kind: 'index', index: 1 },
  ]);
  assert.deepEqual(parseSelector(`$['p95 ms']`), [{ kind: 'field', name: 'p95 ms' }]);
  assert.deepEqual(parseSelector(`$["it's"]`), [{ kind: 'field', name: "it's" }]);
  assert.deepEqual(parseSelector(`$['it\\'s']`), [{ kind: 'field', name: "it's" }]);
  assert.deepEqual(parseSelector('$'), []);
  assert.equal(formatSteps(parseSelector(`$.a['b c'][-2]`)), '$.a["b c"][-2]');
});

test('syntax errors say where and what would be valid', () => {
  assert.throws(() => parseSelector('series[0]'), /starts with \$/);
  assert.throws(() => parseSelector('$.series[x]'), /unexpected "\[".*column 9.*write e\.g\./);
  assert.throws(() => parseSelector('$.'), /expected a field name after "\." at column 3/);
  assert.throws(() => parseSelector("$['open"), /unexpected "\["/);
});

test('selects values; negative indexes count from the end', () => {
  assert.deepEqual(select(doc, parseSelector('$.series[0].points[-1][1]')), { kind: 'found', value: 0.25 });
  assert.deepEqual(select(doc, parseSelector(`$['p95 ms']`)), { kind: 'found', value: 310 });
});

test('an empty array or a null on the way is missing (no data); a wrong shape is wrong', () => {
  assert.deepEqual(select(doc, parseSelector('$.empty[-1]')), {
    kind: 'missing',
    where: '$.empty has 0 item(s), no [-1]',
  });
  assert.deepEqual(select(doc, parseSelector('$.gone.value')), { kind: 'missing', where: '$.gone is null' });
  const noField = select(doc, parseSelector('$.serie[0]'));
  assert.equal(noField.kind, 'wrong');
  assert.match((noField as { message: string }).message, /\$ has no field "serie" \(fields: "series", "p95 ms"/);
  assert.match(
    (select(doc, parseSelector('$.series.points')) as { message: string }).message,
    /\$\.series is an array, not an object/,
  );
  assert.match(
    (select(doc, parseSelector('$["p95 ms"][0]')) as { message: string }).message,
    /is a number, not an array/,
  );
});
