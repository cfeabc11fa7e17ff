/** Game days as `GET /api/gamedays` lists them: each run in short, and the scheduled drills (docs/drills.md). */
import type { DrillRecord } from '../core/drills/record.ts';

export interface DrillRunRow {
  drill: string;
  run: number;
  service: string;
  status: string;
  startedAt: number;
  startedBy: string;
  finishedAt: number | null;
  timeToDetectMs: number | null;
  timeToRestoreMs: number | null;
  score: number | null;
  signedOffBy: string | null;
}

/** A drill on a recurring schedule, with its next run. */
export interface ScheduledDrill {
  drill: string;
  service: string;
  rrule: string;
  timeZone: string;
  remindMs: number;
  owners: string[];
  by: string;
  nextRunAt: number | null;
}

export interface GameDaysView {
  runs: DrillRunRow[];
  schedules: ScheduledDrill[];
}

export function drillRunRow(r: DrillRecord): DrillRunRow {
  return {
    drill: r.drill,
    run: r.run,
    service: r.service,
    status: r.status,
    startedAt: r.startedAt,
    startedBy: r.startedBy,
    finishedAt: r.finishedAt,
    timeToDetectMs: r.timeToDetectMs,
    timeToRestoreMs: r.timeToRestoreMs,
    score: r.score,
    signedOffBy: r.signOff?.by ?? null,
  };
}
