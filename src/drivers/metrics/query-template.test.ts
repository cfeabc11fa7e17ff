import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapePromqlString, fillQuery, promDuration, unknownPlaceholders } from './query-template.ts';

test('promDuration picks the largest whole unit', () => {
  assert.equal(promDuration(30_000), '30s');
  assert.equal(promDuration(120_000), '2m');
  assert.equal(promDuration(7_200_000), '2h');
  assert.equal(promDuration(90_000), '90s');
  assert.equal(promDuration(1500), '1500ms');
  assert.equal(promDuration(0), '1ms');
});

test('fillQuery fills every placeholder, keeps $${literal}', () => {
  const q = 'sum(rate(x{service="${service}",version="${version}"}[${window}])) $${version}';
  assert.equal(
    fillQuery(q, { version: '2.0.0', service: 'checkout', windowMs: 60_000 }),
    'sum(rate(x{service="checkout",version="2.0.0"}[1m])) ${version}',
  );
});

test('fillQuery escapes version and service with the given escaper', () => {
  const q = '{version="${version}"}';
  assert.equal(
    fillQuery(q, { version: 'a"b\\c', service: 's', windowMs: 1000 }, escapePromqlString),
    '{version="a\\"b\\\\c"}',
  );
  assert.equal(
    fillQuery('/m?v=${version}', { version: '1.0+build', service: 's', windowMs: 1000 }, encodeURIComponent),
    '/m?v=1.0%2Bbuild',
  );
});

test('fillQuery rejects unknown placeholders, naming the valid ones', () => {
  assert.deepEqual(unknownPlaceholders('${version} ${revision} $${ok} ${}'), ['revision', '']);
  assert.throws(
    () => fillQuery('x{rev="${revision}"}', { version: '1', service: 's', windowMs: 1000 }),
    /unknown placeholder \$\{revision\}; valid: \$\{version\}, \$\{service\}, \$\{window\}/,
  );
});
