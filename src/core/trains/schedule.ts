/**
 * A train calendar: a recurring train runs at each occurrence of its RRULE (with a time zone, as
 * release windows: core/windows), giving teams one cadence. Pure: the time is passed in.
 */
import { compileRule } from '../windows/occurrences.ts';

export interface TrainSchedule {
  /** RFC 5545 rule without DTSTART, e.g. FREQ=WEEKLY;BYDAY=TU */
  rrule: string;
  /** Local date-time of the first occurrence, e.g. 2026-12-08T10:00 */
  start: string;
  timeZone: string;
}

/** The next `count` runs strictly after `after` (epoch ms); fewer when the rule ends. */
export function nextRuns(s: TrainSchedule, after: number, count = 1): number[] {
  const rule = compileRule(s);
  const runs: number[] = [];
  let from = after;
  while (runs.length < count) {
    const next = rule.next(new Date(from), false);
    if (next === null) break;
    runs.push(next.epochMilliseconds);
    from = next.epochMilliseconds;
  }
  return runs;
}
