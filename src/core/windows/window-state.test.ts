import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicy } from '../../spec/release-policy-schema.ts';
import type { Freeze, ReleaseWindow } from './types.ts';
import { spans, windowState } from './window-state.ts';

const at = (iso: string) => Date.parse(iso);
const H = 3_600_000;

const berlinWorkdays: ReleaseWindow = {
  name: 'workdays',
  kind: 'allow',
  rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
  start: '2026-01-05T09:00',
  durationMs: 8 * H,
  timeZone: 'Europe/Berlin',
};
const newYorkFriday: ReleaseWindow = {
  name: 'friday-evening',
  kind: 'deny',
  rrule: 'FREQ=WEEKLY;BYDAY=FR',
  start: '2026-01-02T15:00',
  durationMs: 9 * H,
  timeZone: 'America/New_York',
};

test('an allow window follows local time across the spring DST change (Europe/Berlin)', () => {
  // Monday 23 March: CET (UTC+1), 09:00 local = 08:00Z.
  const before = windowState([berlinWorkdays], [], 'checkout', at('2026-03-23T07:30:00Z'));
  assert.equal(before.open, false);
  assert.equal(before.until, at('2026-03-23T08:00:00Z'));
  assert.match(
    before.reason,
    /outside every allow window; next: "workdays" at Mon, 23\/03\/2026, 09:00 Europe\/Berlin/,
  );
  // Monday 30 March, after the change on the 29th: CEST (UTC+2), 09:00 local = 07:00Z.
  const after = windowState([berlinWorkdays], [], 'checkout', at('2026-03-30T06:30:00Z'));
  assert.equal(after.open, false);
  assert.equal(after.until, at('2026-03-30T07:00:00Z'));
  const inside = windowState([berlinWorkdays], [], 'checkout', at('2026-03-30T07:30:00Z'));
  assert.deepEqual(inside, {
    open: true,
    reason: 'allow window "workdays" until Mon, 30/03/2026, 17:00 Europe/Berlin',
    until: at('2026-03-30T15:00:00Z'),
  });
});

test('a Friday deny window keeps 15:00 New York time when daylight saving ends (America/New_York)', () => {
  // 30 Oct: EDT (UTC-4), 15:00 = 19:00Z; 6 Nov, after 1 Nov: EST (UTC-5), 15:00 = 20:00Z.
  assert.equal(windowState([newYorkFriday], [], 'checkout', at('2026-10-30T19:30:00Z')).open, false);
  const sixth = windowState([newYorkFriday], [], 'checkout', at('2026-11-06T19:30:00Z'));
  assert.equal(sixth.open, true);
  assert.equal(sixth.until, at('2026-11-06T20:00:00Z'));
  const closed = windowState([newYorkFriday], [], 'checkout', at('2026-11-06T20:30:00Z'));
  assert.equal(closed.open, false);
  assert.match(closed.reason, /deny window "friday-evening" until Sat, 07\/11\/2026, 00:00 America\/New_York/);
  assert.equal(closed.until, at('2026-11-07T05:00:00Z'));
});

test('a deny window wins over an allow window, and until skips to when both let go', () => {
  const always: ReleaseWindow = {
    name: 'always',
    kind: 'allow',
    rrule: 'FREQ=DAILY',
    start: '2026-01-01T00:00',
    durationMs: 24 * H,
    timeZone: 'UTC',
  };
  const lunch: ReleaseWindow = {
    name: 'lunch',
    kind: 'deny',
    rrule: 'FREQ=DAILY',
    start: '2026-01-01T12:00',
    durationMs: H,
    timeZone: 'UTC',
  };
  const s = windowState([always, lunch], [], 'checkout', at('2026-06-10T12:15:00Z'));
  assert.equal(s.open, false);
  assert.match(s.reason, /deny window "lunch"/);
  assert.equal(s.until, at('2026-06-10T13:00:00Z'));
  assert.deepEqual(
    windowState([always, lunch], [], 'checkout', at('2026-06-10T11:00:00Z')).until,
    at('2026-06-10T12:00:00Z'),
  );
});

test('a freeze stops the services it names (or all), and says why and until when', () => {
  const freeze: Freeze = {
    name: 'black-friday',
    from: at('2026-11-26T00:00:00Z'),
    until: at('2026-11-30T00:00:00Z'),
    reason: 'peak traffic',
    services: ['checkout'],
  };
  const frozen = windowState([], [freeze], 'checkout', at('2026-11-27T10:00:00Z'));
  assert.deepEqual(frozen, {
    open: false,
    reason: 'freeze "black-friday" (peak traffic) until 2026-11-30T00:00:00.000Z',
    until: at('2026-11-30T00:00:00Z'),
  });
  assert.deepEqual(windowState([], [freeze], 'search', at('2026-11-27T10:00:00Z')), {
    open: true,
    reason: 'no window applies',
    until: null,
  });
  const everyone = { ...freeze, services: undefined } as Freeze;
  assert.equal(windowState([], [everyone], 'search', at('2026-11-27T10:00:00Z')).open, false);
  // A freeze closes even inside an allow window.
  const always: ReleaseWindow = {
    name: 'always',
    kind: 'allow',
    rrule: 'FREQ=DAILY',
    start: '2026-01-01T00:00',
    durationMs: 24 * H,
    timeZone: 'UTC',
  };
  assert.equal(windowState([always], [freeze], 'checkout', at('2026-11-27T10:00:00Z')).open, false);
});

test('windows limited to services apply to those only; no window at all leaves releases open', () => {
  const onlyPayments = { ...newYorkFriday, services: ['payments'] };
  assert.equal(windowState([onlyPayments], [], 'checkout', at('2026-10-30T19:30:00Z')).open, true);
  assert.equal(windowState([onlyPayments], [], 'payments', at('2026-10-30T19:30:00Z')).open, false);
  assert.deepEqual(windowState([], [], 'checkout', 0), { open: true, reason: 'no window applies', until: null });
});

test('a local time that does not exist is skipped (RFC 5545), one that exists twice counts once', () => {
  const nightly: ReleaseWindow = {
    name: 'nightly',
    kind: 'allow',
    rrule: 'FREQ=DAILY',
    start: '2026-03-01T02:30',
    durationMs: H,
    timeZone: 'Europe/Berlin',
  };
  const spring = spans([nightly], [], 'checkout', at('2026-03-28T00:00:00Z'), at('2026-03-31T00:00:00Z')).map((s) =>
    new Date(s.start).toISOString(),
  );
  assert.deepEqual(
    spring,
    ['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z'],
    '02:30 on 29 March does not exist in Berlin',
  );
  const autumn = spans([nightly], [], 'checkout', at('2026-10-24T12:00:00Z'), at('2026-10-26T12:00:00Z')).map((s) =>
    new Date(s.start).toISOString(),
  );
  assert.deepEqual(
    autumn,
    ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    '02:30 on 25 October is the first (summer-time) one',
  );
});

test('until is null when nothing changes within the horizon', () => {
  const yearly: ReleaseWindow = {
    name: 'new-year',
    kind: 'deny',
    rrule: 'FREQ=YEARLY',
    start: '2026-12-31T00:00',
    durationMs: 48 * H,
    timeZone: 'UTC',
  };
  assert.deepEqual(windowState([yearly], [], 'checkout', at('2026-06-01T00:00:00Z')), {
    open: true,
    reason: 'no window applies',
    until: null,
  });
  assert.equal(windowState([yearly], [], 'checkout', at('2026-12-10T00:00:00Z')).until, at('2026-12-31T00:00:00Z'));
});

test('a ReleasePolicy parses to windows and freezes; errors name the file and the field', () => {
  const policy = parsePolicy(
    `apiVersion: sluice.dev/v1alpha1
kind: ReleasePolicy
metadata: { name: default }
spec:
  windows:
    - { name: workdays, kind: allow, rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", start: "2026-01-05T09:00", duration: 8h, timeZone: Europe/Berlin }
  freezes:
    - { name: black-friday, from: "2026-11-26T00:00:00Z", until: "2026-11-30T00:00:00Z", reason: peak traffic, services: [checkout] }
`,
    'policy.yaml',
  );
  assert.deepEqual(policy.windows, [berlinWorkdays]);
  assert.equal(policy.freezes[0]!.from, at('2026-11-26T00:00:00Z'));
  assert.throws(
    () =>
      parsePolicy(
        `apiVersion: sluice.dev/v1alpha1
kind: ReleasePolicy
metadata: { name: bad }
spec:
  windows:
    - { name: a, kind: allow, rrule: "FREQ=WEEKLY;BYDAY=XX", start: "2026-01-05T09:00", duration: 8h, timeZone: Europe/Berlin }
    - { name: b, kind: deny, rrule: "FREQ=DAILY", start: "2026-01-05T09:00", duration: 8h, timeZone: Mars/Olympus }
  freezes:
    - { name: c, from: "2026-11-30T00:00:00Z", until: "2026-11-26T00:00:00Z", reason: x }
`,
        'bad.yaml',
      ),
    (err: Error) => {
      assert.match(err.message, /bad\.yaml: spec\.windows\.0\.rrule: Invalid BYDAY value: XX/);
      assert.match(err.message, /bad\.yaml: spec\.windows\.1\.timeZone: timeZone is an IANA time zone/);
      assert.match(err.message, /bad\.yaml: spec\.freezes\.0\.until: until must be after from/);
      return true;
    },
  );
});
