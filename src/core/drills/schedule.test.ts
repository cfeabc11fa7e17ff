import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DrillSchedule, LATE_RUN_MS, nextDrillRun, scheduleDue } from './schedule.ts';

const H = 3_600_000;
/** Tuesdays at 10:00 in Berlin (UTC+1 in winter). */
const weekly: DrillSchedule = {
  rrule: 'FREQ=WEEKLY;BYDAY=TU;BYHOUR=10',
  start: '2026-12-01T00:00',
  timeZone: 'Europe/Berlin',
  remindMs: 24 * H,
  owners: ['ann'],
};
const at = (iso: string) => Date.parse(iso);

test('the next run follows the rule in its time zone', () => {
  assert.equal(nextDrillRun(weekly, at('2026-12-05T12:00Z')), at('2026-12-08T09:00Z'));
  assert.equal(nextDrillRun(weekly, at('2026-12-08T09:00Z')), at('2026-12-15T09:00Z'), 'strictly after');
  // Summer time: 10:00 in Berlin is 08:00 UTC.
  assert.equal(nextDrillRun(weekly, at('2027-06-01T00:00Z')), at('2027-06-01T08:00Z'));
});

test('a reminder is due remindMs before the run, once', () => {
  const since = at('2026-12-01T00:00Z');
  const before = scheduleDue(weekly, { since, lastRunAt: null, lastRemindedAt: null }, at('2026-12-07T08:59Z'));
  assert.deepEqual(before, { run: null, remind: null, next: at('2026-12-08T09:00Z') });
  const due = scheduleDue(weekly, { since, lastRunAt: null, lastRemindedAt: null }, at('2026-12-07T09:00Z'));
  assert.deepEqual(due.remind, { at: at('2026-12-08T09:00Z') });
  const sent = scheduleDue(
    weekly,
    { since, lastRunAt: null, lastRemindedAt: at('2026-12-08T09:00Z') },
    at('2026-12-07T10:00Z'),
  );
  assert.equal(sent.remind, null, 'not sent twice');
  // Registered an hour before a run: the reminder goes at once.
  const late = scheduleDue(
    weekly,
    { since: at('2026-12-08T08:00Z'), lastRunAt: null, lastRemindedAt: null },
    at('2026-12-08T08:00Z'),
  );
  assert.deepEqual(late.remind, { at: at('2026-12-08T09:00Z') });
});

test('a run is due at its time, once; one missed for longer than LATE_RUN_MS is late', () => {
  const since = at('2026-12-01T00:00Z');
  const run = at('2026-12-08T09:00Z');
  assert.deepEqual(scheduleDue(weekly, { since, lastRunAt: null, lastRemindedAt: run }, run).run, {
    at: run,
    late: false,
  });
  assert.equal(scheduleDue(weekly, { since, lastRunAt: run, lastRemindedAt: run }, run + 1000).run, null, 'handled');
  assert.deepEqual(scheduleDue(weekly, { since, lastRunAt: null, lastRemindedAt: run }, run + LATE_RUN_MS + 1).run, {
    at: run,
    late: true,
  });
  assert.equal(
    scheduleDue(weekly, { since: run + 1, lastRunAt: null, lastRemindedAt: null }, run + 1000).run,
    null,
    'a run before the registration is not due',
  );
  // Two missed runs: only the latest comes due.
  const two = scheduleDue(weekly, { since, lastRunAt: null, lastRemindedAt: null }, at('2026-12-15T09:00:01Z'));
  assert.deepEqual(two.run, { at: at('2026-12-15T09:00Z'), late: false });
});
