import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceEvent } from '../core/events.ts';
import type { FeatureFlag } from '../core/flags/model.ts';
import { flagChanges, flagExposure } from './flag-history.ts';

const flag = (rules: FeatureFlag['environments'][string]['rules']): FeatureFlag => ({
  name: 'f',
  type: 'release',
  owner: null,
  description: null,
  variants: { on: true, off: false },
  defaultVariant: 'off',
  offVariant: 'off',
  environments: { production: { enabled: true, rules } },
  lifetimeDays: 40,
});
const stored = (seq: number, at: number, body: object, actor = 'ana') =>
  ({ ...body, service: '_flags', seq, at, actor }) as unknown as ServiceEvent;

test('exposure steps with each percent set and drop to 0 under the kill switch; a ramp is drawn along its course', () => {
  const events = [
    stored(1, 1000, {
      type: 'flag.applied',
      file: null,
      flag: flag([
        {
          name: 'r',
          when: [],
          segments: [],
          serve: 'on',
          rollout: { percent: 10, stickiness: 'default', groupId: 'f' },
        },
        {
          name: 'ramp',
          when: [],
          segments: [],
          serve: 'on',
          ramp: { from: 0, to: 100, start: 2000, end: 4400, stickiness: 'default', groupId: 'f' },
        },
      ]),
    }),
    stored(2, 3000, {
      type: 'flag.percentSet',
      flag: 'f',
      environment: 'production',
      rule: 'r',
      percent: 40,
      reason: 'ok',
    }),
    stored(3, 3500, {
      type: 'flag.percentSet',
      flag: 'other',
      environment: 'production',
      rule: 'r',
      percent: 90,
      reason: null,
    }),
    stored(4, 5000, { type: 'flag.disabled', flag: 'f', environment: 'production', reason: 'pager' }, 'bo'),
  ];
  const x = flagExposure('f', events, 6000);
  const r = x.series.find((s) => s.rule === 'r')!;
  const at = (t: number) => x.at.indexOf(t);
  assert.equal(r.percent[at(1000)], 10);
  assert.equal(r.percent[at(3000)], 40);
  assert.equal(r.percent[at(5000)], 0);
  assert.equal(r.percent[at(6000)], 0);
  const ramp = x.series.find((s) => s.rule === 'ramp')!;
  assert.equal(ramp.percent[at(2000)], 0);
  assert.equal(ramp.percent[at(3200)], 50, 'halfway along the ramp');
  assert.equal(ramp.percent[at(4400)], 100);
  assert.equal(
    x.at.filter((t) => t >= 2000 && t <= 4400).length,
    25,
    '25 ramp samples (the percent set at 3000 is one of them)',
  );
  assert.deepEqual(
    x.changes.map((c) => [c.type, c.actor, c.percent]),
    [
      ['flag.applied', 'ana', null],
      ['flag.percentSet', 'ana', 40],
      ['flag.disabled', 'bo', null],
    ],
  );
  assert.match(x.changes[2]!.text, /disabled in production by bo: pager/);
  assert.equal(flagChanges(events).length, 4, 'every flag, for the marks on services');
});
