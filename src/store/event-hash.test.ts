import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, eventHash, GENESIS_HASH } from './event-hash.ts';

/** The definition, written the plain way: what canonicalJson must produce, byte for byte. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

const EVENT = {
  type: 'analysis.evaluated',
  verdicts: [
    { rule: 'errors', outcome: 'Pass', canary: 0.001, baseline: null, reason: 'é "q" \\ ✓', at: 1700000000123 },
  ],
  accumulated: { canary: { last: { requests: 3, latency: { 10: 1, 2: 2 } } } },
  service: 'checkout',
  at: 1700000000123,
  actor: 'sluice-controller',
  seq: 42,
  z: [1, [2, {}], [], 'x'],
  a: { b: -0, c: 1e21, d: true },
};

test('an event hashes to the same chain hash as every earlier version computed (a log stays verifiable)', () => {
  const read = JSON.parse(JSON.stringify(EVENT)) as object;
  assert.equal(
    canonicalJson(read),
    '{"a":{"b":0,"c":1e+21,"d":true},"accumulated":{"canary":{"last":{"latency":{"10":1,"2":2},"requests":3}}},' +
      '"actor":"sluice-controller","at":1700000000123,"seq":42,"service":"checkout","type":"analysis.evaluated",' +
      '"verdicts":[{"at":1700000000123,"baseline":null,"canary":0.001,"outcome":"Pass","reason":"é \\"q\\" \\\\ ✓","rule":"errors"}],' +
      '"z":[1,[2,{}],[],"x"]}',
  );
  assert.equal(eventHash(GENESIS_HASH, read), 'b01f62c8bf91477ac831346575e62eddd12d0fc715827ac39fe0fc84a48b696e');
});

test('canonical JSON is the sorted-keys definition for any JSON value: nesting, unicode keys, numbers, undefined fields', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const keys = ['a', 'B', 'b', '10', '9', 'é', 'z_1', '', 'ä', '\u{1F600}', 'aa', 'type'];
  const value = (depth: number): unknown => {
    const r = random();
    if (depth > 3 || r < 0.3)
      return [null, true, false, 0, -1.5, 1e-7, 2 ** 53, 'x"y\\', 'ü', undefined][Math.floor(random() * 10)];
    if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(random() * 6); i > 0; i--) o[keys[Math.floor(random() * keys.length)]!] = value(depth + 1);
    return o;
  };
  for (let i = 0; i < 2000; i++) {
    const v = value(0);
    assert.equal(canonicalJson(v), reference(v));
  }
});
