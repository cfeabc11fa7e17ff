import { RRuleTemporal } from 'rrule-temporal';
import type { ReleaseWindow, WindowSpan } from './types.ts';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Whether Intl knows the time zone (throws RangeError otherwise). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The rule in iCalendar form: DTSTART with TZID, then the RRULE. Throws with a reason when invalid. */
export function compileRule(w: Pick<ReleaseWindow, 'rrule' | 'start' | 'timeZone'>): RRuleTemporal {
  const m = LOCAL.exec(w.start);
  if (!m) throw new Error(`start "${w.start}" is not a local date-time such as 2026-01-05T09:00`);
  if (!isTimeZone(w.timeZone))
    throw new Error(`timeZone "${w.timeZone}" is not an IANA time zone such as Europe/Berlin or UTC`);
  const rrule = w.rrule.replace(/^RRULE:/i, '').trim();
  if (!/^FREQ=/i.test(rrule) && !/;FREQ=/i.test(rrule))
    throw new Error(`rrule "${w.rrule}" has no FREQ; write e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH`);
  if (/DTSTART|TZID/i.test(rrule)) throw new Error('rrule must not carry DTSTART or TZID: use start and timeZone');
  const dtstart = `${m[1]}${m[2]}${m[3]}T${m[4]}${m[5]}${m[6] ?? '00'}`;
  return new RRuleTemporal({
    rruleString: `DTSTART;TZID=${w.timeZone}:${dtstart}\nRRULE:${rrule.toUpperCase()}`,
    strict: true,
  });
}

/** The occurrences of `w` that overlap [from, to), in order. */
export function occurrences(w: ReleaseWindow, rule: RRuleTemporal, from: number, to: number): WindowSpan[] {
  // An occurrence that began up to one duration before `from` may still be running.
  const starts = rule.between(new Date(from - w.durationMs), new Date(to), true);
  return starts
    .map((z) => ({
      name: w.name,
      kind: w.kind,
      start: z.epochMilliseconds,
      end: z.epochMilliseconds + w.durationMs,
      services: w.services ?? null,
      timeZone: w.timeZone,
    }))
    .filter((s) => s.end > from && s.start < to);
}
