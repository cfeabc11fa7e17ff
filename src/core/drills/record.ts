/**
 * The drill record, folded from a run's drill events (events.ts), and the figures it carries:
 * steady state per phase against each probe's tolerance, the resilience score, time to detect
 * (first faulted request → the contract's Fail) and time to restore (first → last faulted
 * request: after it all traffic is healthy), both from the data plane's own clock and counters.
 */
import type { ServiceEvent } from '../events.ts';
import {
  type ActionItem,
  type DrillEvent,
  type DrillPhase,
  type DrillScheduleEvent,
  type DrillTraffic,
  type DrillVerdict,
  type ProbeTally,
  describeDrillEvent,
} from './events.ts';
import type { ActiveFault } from './fault.ts';
import type { GameDay } from './gameday.ts';

export type StoredDrillEvent = Extract<
  ServiceEvent,
  Exclude<DrillEvent, { type: 'drill.rehearsed' } | DrillScheduleEvent>
>;

export interface TimelineEntry {
  at: number;
  type: string;
  text: string;
  actor: string;
}

export interface DrillRecord {
  drill: string;
  run: number;
  service: string;
  status: 'running' | DrillVerdict;
  startedAt: number;
  startedBy: string;
  finishedAt: number | null;
  gameDay: GameDay;
  timeline: TimelineEntry[];
  steadyState: Partial<Record<DrillPhase, ProbeTally[]>>;
  /** Requests and errors per revision each second of the run (once it finished; null before, or none recorded). */
  traffic: DrillTraffic | null;
  /** Every fault the run injected, with what it hit (once it was removed). */
  faults: ActiveFault[];
  timeToDetectMs: number | null;
  timeToRestoreMs: number | null;
  score: number | null;
  detail: string | null;
  signOff: { by: string; role: string; at: number; comment: string } | null;
  actionItems: ActionItem[];
}

/** Whether a probe met its tolerance (no answers: not met, there is no evidence it held). */
export function toleranceMet(t: ProbeTally): boolean {
  return t.total > 0 && (t.good / t.total) * 100 >= t.tolerance;
}

/**
 * 0..100: each probe in each phase scores its share of good answers against its tolerance (at
 * or above it scores 1), weighted by the probe's weight. Null without any answer.
 */
export function resilienceScore(phases: Partial<Record<DrillPhase, ProbeTally[]>>): number | null {
  let weighted = 0;
  let weights = 0;
  for (const tallies of Object.values(phases)) {
    for (const t of tallies) {
      if (t.total === 0) continue;
      weighted += t.weight * Math.min(1, t.good / t.total / (t.tolerance / 100));
      weights += t.weight;
    }
  }
  return weights === 0 ? null : Math.round((weighted / weights) * 1000) / 10;
}

/** The first request any fault hit, by the data plane's clock (null: none was hit). */
export function firstHit(faults: readonly ActiveFault[]): number | null {
  const hits = faults.flatMap((f) => (f.firstHitAt === null ? [] : [f.firstHitAt]));
  return hits.length === 0 ? null : Math.min(...hits);
}

/** First faulted request → the contract's Fail; null when either did not happen (or the Fail came first). */
export function timeToDetect(faults: readonly ActiveFault[], failAt: number | null): number | null {
  const first = firstHit(faults);
  return first === null || failAt === null || failAt < first ? null : failAt - first;
}

/** First → last faulted request: from then on all traffic is healthy. Null when no request was hit. */
export function timeToRestore(faults: readonly ActiveFault[]): number | null {
  const first = firstHit(faults);
  const lasts = faults.flatMap((f) => (f.lastHitAt === null ? [] : [f.lastHitAt]));
  return first === null ? null : Math.max(...lasts) - first;
}

/** An instance a drill faulted: when, and when it was restored (answering again, or its traffic reverted). */
export interface FaultedInstance {
  key: string;
  at: number;
  /** It answered HTTP again after its restart or resume (null: not seen). */
  answeringAt: number | null;
}

/**
 * Detect and restore across a run's faults: the proxy's (their first and last hit) and the
 * instances' (their fault time; restored when answering again, or, for the canary the contract
 * reverted, when its traffic was reverted, whichever came first). Detect: first fault → the
 * contract's Fail. Restore: first fault → the last of them restored; null while one is not.
 */
export function drillTimes(o: {
  hits: readonly ActiveFault[];
  instances: readonly FaultedInstance[];
  failAt: number | null;
  reverted: { at: number; key: string } | null;
}): { timeToDetectMs: number | null; timeToRestoreMs: number | null } {
  if (o.instances.length === 0)
    return { timeToDetectMs: timeToDetect(o.hits, o.failAt), timeToRestoreMs: timeToRestore(o.hits) };
  const starts = [firstHit(o.hits), ...o.instances.map((i) => i.at)].filter((t): t is number => t !== null);
  const first = Math.min(...starts);
  const restored = o.instances.map((i) => {
    const reverted = o.reverted !== null && o.reverted.key === i.key && o.reverted.at >= i.at ? o.reverted.at : null;
    const ends = [i.answeringAt, reverted].filter((t): t is number => t !== null);
    return ends.length === 0 ? null : Math.min(...ends);
  });
  const lastHits = o.hits.flatMap((f) => (f.lastHitAt === null ? [] : [f.lastHitAt]));
  return {
    timeToDetectMs: o.failAt === null || o.failAt < first ? null : o.failAt - first,
    timeToRestoreMs: restored.includes(null) ? null : Math.max(...(restored as number[]), ...lastHits) - first,
  };
}

/** The runs in `events` (any order of runs, each run's events in log order), folded into records. */
export function drillRecords(events: readonly StoredDrillEvent[]): DrillRecord[] {
  const runs = new Map<string, DrillRecord>();
  for (const e of events) {
    const id = `${e.drill}#${e.run}`;
    if (e.type === 'drill.started') {
      runs.set(id, {
        drill: e.drill,
        run: e.run,
        service: e.drilled,
        status: 'running',
        startedAt: e.at,
        startedBy: e.actor,
        finishedAt: null,
        gameDay: e.gameDay,
        timeline: [],
        steadyState: {},
        faults: [],
        traffic: null,
        timeToDetectMs: null,
        timeToRestoreMs: null,
        score: null,
        detail: null,
        signOff: null,
        actionItems: [],
      });
    }
    const r = runs.get(id);
    if (r === undefined) continue;
    if (e.type === 'drill.traffic') {
      r.traffic = e.traffic;
      continue;
    }
    r.timeline.push({ at: e.at, type: e.type, text: describeDrillEvent(e, e.actor), actor: e.actor });
    switch (e.type) {
      case 'drill.faultsCleared':
        r.faults.push(...e.faults);
        break;
      case 'drill.steadyState':
        r.steadyState[e.phase] = e.tallies;
        break;
      case 'drill.finished':
        Object.assign(r, {
          status: e.verdict,
          finishedAt: e.at,
          detail: e.detail,
          timeToDetectMs: e.timeToDetectMs,
          timeToRestoreMs: e.timeToRestoreMs,
          score: e.score,
        });
        break;
      case 'drill.signedOff':
        r.signOff = { by: e.actor, role: e.role, at: e.at, comment: e.comment };
        r.actionItems.push(...e.actionItems);
        break;
      default:
        break;
    }
  }
  return [...runs.values()];
}
