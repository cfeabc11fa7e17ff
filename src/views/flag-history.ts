/**
 * A flag's history for the dashboard's charts, folded from its events by the same reducer the
 * server uses (core/flags/flag-set.ts): each rule's exposure per environment over time (0 while
 * the kill switch is off; ramps sampled between their ends), and each change as a mark with its
 * actor and reason. Pure, so the browser builds it from `GET /api/flags/:name/events`.
 */
import type { ServiceEvent } from '../core/events.ts';
import type { FlagEvent } from '../core/flags/events.ts';
import { describeFlagEvent } from '../core/flags/events.ts';
import { emptyFlagSet, reduceFlags, type FlagSet } from '../core/flags/flag-set.ts';
import { rulePercent } from '../core/flags/ramp.ts';

type StoredFlagEvent = FlagEvent & { at: number; actor: string; seq: number };

/** A change of a flag, as a chart marks it. */
export interface FlagChange {
  at: number;
  seq: number;
  flag: string;
  type: FlagEvent['type'];
  /** null: every environment (an applied document). */
  environment: string | null;
  actor: string;
  /** The exposure a `flag.percentSet` set (null for other changes). */
  percent: number | null;
  /** The change in a sentence, with its reason when one was given. */
  text: string;
}

/** Each rule's exposure per environment, as columns on shared times (a step holds until the next time). */
export interface FlagExposure {
  at: number[];
  series: { environment: string; rule: string; percent: (number | null)[] }[];
  changes: FlagChange[];
}

/** Samples drawn along a ramp between its start and end. */
const RAMP_SAMPLES = 24;

const isFlagEvent = (e: ServiceEvent): e is ServiceEvent & StoredFlagEvent =>
  e.type.startsWith('flag.') || e.type === 'segment.applied';

const flagOf = (e: FlagEvent): string | null =>
  e.type === 'flag.applied' ? e.flag.name : e.type === 'segment.applied' ? null : e.flag;

const environmentOf = (e: FlagEvent): string | null =>
  e.type === 'flag.percentSet' ||
  e.type === 'flag.enabled' ||
  e.type === 'flag.disabled' ||
  e.type === 'flag.paused' ||
  e.type === 'flag.resumed'
    ? e.environment
    : e.type === 'flag.rolledBack'
      ? e.log.environment
      : null;

/** Every flag change among `events` (segments are not flag changes), oldest first. */
export function flagChanges(events: readonly ServiceEvent[]): FlagChange[] {
  const out: FlagChange[] = [];
  for (const e of events) {
    if (!isFlagEvent(e)) continue;
    const flag = flagOf(e);
    if (flag === null) continue;
    out.push({
      at: e.at,
      seq: e.seq,
      flag,
      type: e.type,
      environment: environmentOf(e),
      actor: e.actor,
      percent: e.type === 'flag.percentSet' ? e.percent : null,
      text: describeFlagEvent(e, e.actor),
    });
  }
  return out.sort((a, b) => a.at - b.at || a.seq - b.seq);
}

/** One flag's exposure over time, from its events (segments included, so rules fold as the server's do), up to `now`. */
export function flagExposure(name: string, events: readonly ServiceEvent[], now: number): FlagExposure {
  const mine = events
    .filter(isFlagEvent)
    .filter((e) => e.type === 'segment.applied' || flagOf(e) === name)
    .sort((a, b) => a.seq - b.seq);
  const changes = flagChanges(mine);
  // The times to sample: each event, each ramp's course, and now.
  const times = new Set<number>(mine.map((e) => e.at));
  for (const e of mine) {
    if (e.type !== 'flag.applied') continue;
    for (const env of Object.values(e.flag.environments))
      for (const r of env.rules) {
        if (r.ramp === undefined) continue;
        for (let i = 0; i <= RAMP_SAMPLES; i++) {
          const t = r.ramp.start + ((r.ramp.end - r.ramp.start) * i) / RAMP_SAMPLES;
          if (t >= e.at && t <= now) times.add(Math.round(t));
        }
      }
  }
  if (mine.length > 0) times.add(Math.max(now, mine[mine.length - 1]!.at));
  const at = [...times].sort((a, b) => a - b);
  const columns = new Map<string, { environment: string; rule: string; percent: (number | null)[] }>();
  let set: FlagSet = emptyFlagSet();
  let next = 0;
  at.forEach((t, i) => {
    while (next < mine.length && mine[next]!.at <= t) set = reduceFlags(set, mine[next++]!);
    const record = set.flags[name];
    if (record === undefined) return;
    for (const [environment, env] of Object.entries(record.flag.environments)) {
      for (const rule of env.rules) {
        const key = `${environment}\u0000${rule.name}`;
        let column = columns.get(key);
        if (column === undefined) {
          column = { environment, rule: rule.name, percent: new Array<number | null>(at.length).fill(null) };
          columns.set(key, column);
        }
        column.percent[i] = env.enabled && !record.archived ? rulePercent(rule, t) : 0;
      }
    }
  });
  return { at, series: [...columns.values()], changes };
}
