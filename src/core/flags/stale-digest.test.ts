import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlagRecord } from './flag-set.ts';
import type { FeatureFlag, FlagType } from './model.ts';
import { NO_OWNER, staleDigests } from './stale-digest.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2, 9);

function record(name: string, type: FlagType, owner: string | null, ageDays: number, o: Partial<FeatureFlag> = {}) {
  const lifetimeDays = { release: 40, experiment: 40, operational: 7, killSwitch: null, permission: null }[type];
  const flag: FeatureFlag = {
    name,
    type,
    owner,
    description: null,
    variants: { on: true, off: false },
    defaultVariant: 'off',
    offVariant: 'off',
    environments: { production: { enabled: true, rules: [] }, staging: { enabled: false, rules: [] } },
    lifetimeDays,
    ...o,
  };
  const r: FlagRecord = {
    flag,
    createdAt: NOW - ageDays * DAY,
    createdBy: 'a',
    updatedAt: NOW,
    updatedBy: 'a',
    archived: false,
  };
  return r;
}

test('one digest per owner, of the live flags past their lifetime, most overdue first', () => {
  const digests = staleDigests(
    [
      record('new-checkout', 'release', 'team-web', 55),
      record('one-page', 'release', 'team-web', 90),
      record('fresh', 'release', 'team-web', 39),
      record('cache-off', 'operational', 'team-pay', 8),
      record('kill-payments', 'killSwitch', 'team-pay', 900),
      record('long-lived', 'release', 'team-pay', 100, { lifetimeDays: 365 }),
      { ...record('gone', 'release', 'team-pay', 300), archived: true },
      record('orphan', 'experiment', null, 41),
    ],
    NOW,
  );
  assert.deepEqual(
    digests.map((d) => [d.owner, d.flags.map((f) => `${f.name}:${f.overdueDays}`)]),
    [
      [NO_OWNER, ['orphan:1']],
      ['team-pay', ['cache-off:1']],
      ['team-web', ['one-page:50', 'new-checkout:15']],
    ],
  );
  const web = digests[2]!;
  assert.equal(web.title, '2 potentially stale flags owned by team-web');
  assert.match(web.markdown, /\| one-page \| release \| 90 days \| 50 days past 40 \| production \|/);
  assert.match(web.markdown, /sluice flag archive NAME/);
  assert.deepEqual(staleDigests([record('fresh', 'release', 'x', 40)], NOW), [], 'at its lifetime, not past it');
});
