/**
 * The fault map's pure parts: entries round-trip for every kind the haproxy injects, and a haproxy
 * built without Lua gets a config with no Lua in it and refuses what needs the script by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FaultEntry, decodeEntry, encodeEntry, faultConfig, faultRefusal } from './fault-map.ts';

test('entries round-trip: an error, a latency, a reset, a header and a cookie cohort', () => {
  const base = { permyriad: 3000, untilMs: 1_800_000_000_000, setAtMs: 1_799_999_990_000, key: '2', id: 'd/1/0.0' };
  const entries: FaultEntry[] = [
    { ...base, effect: { kind: 'error', status: 503 } },
    { ...base, effect: { kind: 'latency', ms: 900 }, cohort: { header: 'x-user-id' } },
    { ...base, effect: { kind: 'reset' }, cohort: { cookie: 'session' } },
  ];
  for (const e of entries) assert.deepEqual(decodeEntry(encodeEntry(e)), e);
  assert.equal(encodeEntry(entries[1]!), '0:3000:1800000000000:1799999990000:2:d/1/0.0:l:900:h=x-user-id');
  assert.equal(decodeEntry('h=x-user-id'), null, 'the ~cohort entry is no fault');
});

test('a haproxy without Lua: no script, no rule that calls it; latency, reset and cohorts refused by name, errors kept', () => {
  const without = faultConfig('/f.map', '/faults.lua', false);
  assert.equal([...without.global, ...without.frontend].join('\n').includes('lua'), false);
  const withLua = faultConfig('/f.map', '/faults.lua', true);
  assert.deepEqual(withLua.global, ['  lua-load-per-thread /faults.lua']);
  assert.equal(withLua.frontend.filter((l) => /lua\.sluice_/.test(l)).length, 3);
  const rule = { key: '2', effect: { kind: 'error', status: 503 } } as const;
  assert.equal(faultRefusal(rule, false), null);
  assert.match(
    faultRefusal({ ...rule, effect: { kind: 'latency', ms: 5 } }, false) ?? '',
    /built without Lua.*latency faults need/,
  );
  assert.match(
    faultRefusal({ ...rule, effect: { kind: 'reset' } }, false) ?? '',
    /built without Lua.*reset faults need/,
  );
  assert.match(
    faultRefusal({ ...rule, cohort: { header: 'x-u' } }, false) ?? '',
    /built without Lua.*cohort faults need/,
  );
  assert.equal(faultRefusal({ ...rule, effect: { kind: 'latency', ms: 5 } }, true), null);
});
