/**
 * A GameDay's recurring schedule (docs/drills.md): its runs are the occurrences of an RRULE in a
 * time zone, expanded as a release train's calendar is (core/trains/schedule.ts, which compiles
 * the rule as release windows do); a reminder goes to the owners `remindMs` before each run.
 * Pure: the time is passed in.
 */
import { nextRuns } from '../trains/schedule.ts';

export interface DrillSchedule {
  /** RFC 5545 rule without DTSTART, e.g. FREQ=WEEKLY;BYDAY=TU;BYHOUR=10 */
  rrule: string;
  /** Local date-time the rule counts from, e.g. 2026-12-01T00:00 */
  start: string;
  timeZone: string;
  /** How long before each run the owners are reminded. */
  remindMs: number;
  owners: string[];
}

/** A run that comes due later than this after its time (the server was down) is skipped, not run late. */
export const LATE_RUN_MS = 5 * 60_000;

/** The next run strictly after `after` (null: the rule has no more). */
export function nextDrillRun(s: DrillSchedule, after: number): number | null {
  return nextRuns(s, after)[0] ?? null;
}

/** What a schedule has already done: the last run time it handled and the last it sent a reminder for. */
export interface ScheduleProgress {
  /** When the schedule was registered: nothing before it is due. */
  since: number;
  lastRunAt: number | null;
  lastRemindedAt: number | null;
}

export interface ScheduleDue {
  /** A run whose time has come and that was not handled yet. */
  run: { at: number; late: boolean } | null;
  /** The next run, when its reminder is due now and was not sent. */
  remind: { at: number } | null;
  /** The next run after now (for `gameday list`). */
  next: number | null;
}

/** What is due at `now`: a run (at most one; `late` past LATE_RUN_MS) and a reminder for the coming run. */
export function scheduleDue(s: DrillSchedule, p: ScheduleProgress, now: number): ScheduleDue {
  // A server down for longer than a day does not walk every missed occurrence.
  const handled = Math.max(p.since, p.lastRunAt ?? -Infinity, now - 86_400_000);
  // The latest run time in (handled, now]: earlier ones missed are passed over with it.
  let due: number | null = null;
  for (let t = nextDrillRun(s, handled); t !== null && t <= now; t = nextDrillRun(s, t)) due = t;
  const next = nextDrillRun(s, now);
  const remind =
    next !== null && next - s.remindMs <= now && (p.lastRemindedAt === null || p.lastRemindedAt < next)
      ? { at: next }
      : null;
  return { run: due === null ? null : { at: due, late: now - due > LATE_RUN_MS }, remind, next };
}
