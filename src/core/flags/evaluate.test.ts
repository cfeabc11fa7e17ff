import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inRollout } from './bucket.ts';
import { compileFlag, evaluate } from './evaluate.ts';
import type { FeatureFlag, Rule, Segment } from './model.ts';
import { murmur3 } from './murmur3.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');

function flag(rules: Rule[], o: Partial<FeatureFlag> = {}): FeatureFlag {
  return {
    name: 'new-checkout',
    type: 'release',
    owner: 'team-web',
    description: null,
    lifetimeDays: 40,
    variants: { on: true, off: false },
    defaultVariant: 'off',
    offVariant: 'off',
    environments: { production: { enabled: true, rules } },
    ...o,
  };
}
const rule = (r: Partial<Rule> & { name: string }): Rule => ({ when: [], segments: [], serve: 'on', ...r });

test('murmur3_x86_32 gives the reference values (UTF-8 bytes, any seed)', () => {
  assert.equal(murmur3('', 0), 0);
  assert.equal(murmur3('', 1), 0x514e28b7);
  assert.equal(murmur3('hello', 0), 0x248bfa47);
  assert.equal(murmur3('The quick brown fox jumps over the lazy dog', 0x9747b28c), 0x2fa826cd);
  // Non-ASCII hashes its UTF-8 bytes, as Unleash's Go, Java and Rust clients do: checked against
  // the reference algorithm run over Buffer's UTF-8 encoding.
  const reference = (bytes: Uint8Array, seed: number) => {
    let h = seed;
    const body = bytes.length - (bytes.length % 4);
    const mix = (k: number) => Math.imul(((k = Math.imul(k, 0xcc9e2d51)) << 15) | (k >>> 17), 0x1b873593);
    for (let i = 0; i < body; i += 4) {
      h ^= mix(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
      h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
    }
    let k = 0;
    for (let i = bytes.length - 1; i >= body; i--) k = (k << 8) | bytes[i]!;
    if (bytes.length > body) h ^= mix(k);
    h ^= bytes.length;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  for (const text of [
    'Feature.UTF-8.Hellø_Wørld:123',
    '😊_φriend_你好_🌍',
    'a\u00e9\u4e2d\ud83d\ude00z',
    'abc',
    'abcd',
    'abcde',
  ]) {
    for (const seed of [0, 86028157])
      assert.equal(murmur3(text, seed), reference(Buffer.from(text, 'utf8'), seed), `${text} seed ${seed}`);
  }
});

test('a table of contexts: first matching rule wins; DEFAULT, DISABLED, STATIC and TARGETING_MATCH as OFREP names them', () => {
  const segments = new Map<string, Segment>([
    [
      'beta-testers',
      {
        name: 'beta-testers',
        description: null,
        conditions: [{ attribute: 'plan', operator: 'IN', values: ['beta'] }],
      },
    ],
  ]);
  const f = compileFlag(
    flag([
      rule({ name: 'staff', when: [{ attribute: 'email', operator: 'ENDS_WITH', values: ['@example.com'] }] }),
      rule({
        name: 'old-app',
        when: [{ attribute: 'appVersion', operator: 'SEMVER_LT', values: ['2.0.0'] }],
        serve: 'off',
      }),
      rule({ name: 'beta', segments: ['beta-testers'] }),
      rule({
        name: 'big',
        when: [
          { attribute: 'seats', operator: 'NUM_GTE', values: ['100'] },
          { attribute: 'country', operator: 'NOT_IN', values: ['FR'] },
        ],
      }),
      rule({
        name: 'launch',
        when: [
          { attribute: 'currentTime', operator: 'DATE_AFTER', values: ['2026-05-01T00:00:00Z'] },
          { attribute: 'tier', operator: 'REGEX', values: ['^gold|platinum$'] },
        ],
      }),
    ]),
    'production',
    segments,
  );
  const cases: [Record<string, unknown>, string, string, string | null][] = [
    [{ email: 'ann@example.com', appVersion: '1.0.0' }, 'on', 'TARGETING_MATCH', 'staff'],
    [{ email: 'bob@example.org', appVersion: '1.9.9' }, 'off', 'TARGETING_MATCH', 'old-app'],
    [{ appVersion: '2.0.0-rc.1' }, 'off', 'TARGETING_MATCH', 'old-app'],
    [{ appVersion: '2.0.0', plan: 'beta' }, 'on', 'TARGETING_MATCH', 'beta'],
    [{ seats: 150 }, 'on', 'TARGETING_MATCH', 'big'],
    [{ seats: '150', country: 'FR' }, 'off', 'DEFAULT', null],
    [{ seats: 'many' }, 'off', 'DEFAULT', null],
    [{ tier: 'gold' }, 'on', 'TARGETING_MATCH', 'launch'],
    [{ tier: 'silver' }, 'off', 'DEFAULT', null],
    [{}, 'off', 'DEFAULT', null],
  ];
  for (const [ctx, variant, reason, ruleName] of cases) {
    const r = evaluate(f, ctx, NOW);
    assert.deepEqual([r.variant, r.reason, r.rule], [variant, reason, ruleName], JSON.stringify(ctx));
  }
  assert.equal(evaluate(compileFlag(flag([]), 'production', new Map()), {}, NOW).reason, 'STATIC');
  const off = flag([rule({ name: 'all' })]);
  off.environments.production!.enabled = false;
  assert.deepEqual(evaluate(compileFlag(off, 'production', new Map()), { email: 'a@example.com' }, NOW), {
    key: 'new-checkout',
    variant: 'off',
    value: false,
    reason: 'DISABLED',
    rule: null,
  });
  assert.equal(
    evaluate(compileFlag(off, 'staging', new Map()), {}, NOW).reason,
    'DISABLED',
    'an environment the flag does not have',
  );
});

test('a sticky percentage: the same users every time, about the share asked for, and 100% with no targeting key', () => {
  const f = compileFlag(
    flag([rule({ name: 'ramp', rollout: { percent: 25, stickiness: 'default', groupId: 'new-checkout' } })]),
    'production',
    new Map(),
  );
  let on = 0;
  for (let i = 0; i < 10_000; i++) {
    const r = evaluate(f, { targetingKey: `user-${i}` }, NOW);
    assert.equal(r.variant, evaluate(f, { targetingKey: `user-${i}` }, NOW).variant);
    if (r.variant === 'on') on++;
  }
  assert.ok(on > 2300 && on < 2700, `${on} of 10000 exposed at 25%`);
  assert.equal(evaluate(f, {}, NOW).variant, 'off', 'no targeting key: not in a partial rollout');
  const all = compileFlag(
    flag([rule({ name: 'ramp', rollout: { percent: 100, stickiness: 'default', groupId: 'g' } })]),
    'production',
    new Map(),
  );
  assert.equal(evaluate(all, {}, NOW).variant, 'on');
});

test('property: raising a percentage never removes an exposed user (any group, any user, any pair of percents)', () => {
  let seed = 42;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let trial = 0; trial < 20_000; trial++) {
    const group = `flag-${Math.floor(random() * 1e6)}`;
    const user = `${Math.floor(random() * 1e9)}`;
    const low = Math.floor(random() * 101);
    const high = low + Math.floor(random() * (101 - low));
    if (inRollout(group, user, low))
      assert.ok(inRollout(group, user, high), `${user} in ${group} exposed at ${low}% but not at ${high}%`);
  }
});

test('a scheduled ramp exposes more users as time passes, keeping those exposed', () => {
  const start = Date.parse('2026-06-01T00:00:00Z');
  const f = compileFlag(
    flag([
      rule({
        name: 'ramp',
        ramp: { from: 0, to: 100, start, end: start + 100 * 60_000, stickiness: 'default', groupId: 'new-checkout' },
      }),
    ]),
    'production',
    new Map(),
  );
  const exposed = (at: number) =>
    new Set(
      Array.from({ length: 2000 }, (_, i) => `u${i}`).filter(
        (u) => evaluate(f, { targetingKey: u }, at).variant === 'on',
      ),
    );
  const early = exposed(start + 10 * 60_000);
  const late = exposed(start + 60 * 60_000);
  assert.ok(early.size > 100 && early.size < 300, `${early.size} at 10%`);
  for (const u of early) assert.ok(late.has(u));
  assert.equal(exposed(start - 1).size, 0);
  assert.equal(exposed(start + 200 * 60_000).size, 2000);
});

test('a weighted split serves each variant about its weight, sticky per user', () => {
  const f = compileFlag(
    flag(
      [
        rule({
          name: 'ab',
          serve: {
            weights: [
              { variant: 'a', weight: 50 },
              { variant: 'b', weight: 50 },
            ],
            stickiness: 'default',
            groupId: 'exp',
          },
        }),
      ],
      { variants: { a: 'A', b: 'B' }, defaultVariant: 'a', offVariant: 'a' },
    ),
    'production',
    new Map(),
  );
  const counts = { a: 0, b: 0 };
  for (let i = 0; i < 4000; i++) {
    const r = evaluate(f, { targetingKey: `k${i}` }, NOW);
    assert.equal(r.reason, 'SPLIT');
    counts[r.variant as 'a' | 'b']++;
  }
  assert.ok(counts.a > 1800 && counts.b > 1800, JSON.stringify(counts));
});
