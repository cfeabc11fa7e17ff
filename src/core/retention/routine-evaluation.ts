/**
 * Which evaluations the log keeps. At a 1 s interval a 24-hour Verify window is 86,400
 * evaluations, each carrying verdicts and the accumulated counts (histograms): kept whole, the log
 * grows by hundreds of megabytes a day. Most of them change nothing a decision reads: the same
 * outcome as the rule's last verdict at the same traffic level, no metrics error, no new point.
 * Those are *routine*: the controller folds them into its state in memory and records one of them
 * every `heartbeatMs` (a snapshot: its accumulated counts are whole). Everything else is recorded
 * as it happens, so the log keeps every decision and what decided it: every change of outcome,
 * every Fail, every first verdict at a new traffic level, every metrics error and its recovery,
 * every Mann–Whitney point, and every event of a rollback.
 *
 * What replaying the log gives up: between heartbeats the latest figures of an unchanged verdict
 * and the counters' last reading; the next evaluation after a restart reads the counters again
 * and adds their whole increase, so the accumulated sums lose nothing.
 */
import type { EventBody } from '../events.ts';
import type { ReleaseState } from '../release/state.ts';

/** A routine evaluation is still recorded at least this often (the dashboard's series, a restart's figures). */
export const HEARTBEAT_MS = 30_000;

type Evaluated = Extract<EventBody, { type: 'analysis.evaluated' }>;

/**
 * Whether `events` (one decision's) are a routine evaluation of `before`: one analysis.evaluated
 * that changes no rule's outcome, at a level where each rule already has a verdict, with no metrics
 * error before or now and no new point; and the last recorded evaluation is under a heartbeat old.
 */
export function isRoutineEvaluation(
  before: ReleaseState | null,
  events: readonly EventBody[],
  lastRecordedAt: number | null,
  now: number,
  heartbeatMs = HEARTBEAT_MS,
): boolean {
  if (before === null || events.length !== 1 || events[0]!.type !== 'analysis.evaluated') return false;
  const e = events[0] as Evaluated;
  if (lastRecordedAt === null || now - lastRecordedAt >= heartbeatMs) return false;
  if (e.metricsError !== undefined || (before.metricsErrors ?? 0) > 0 || e.points !== undefined) return false;
  if (e.verdicts.length !== before.contract.rules.length) return false;
  const since = before.level?.since ?? -Infinity;
  return e.verdicts.every((v) => {
    const last = before.rules[v.rule]?.last;
    return last !== undefined && last !== null && v.outcome !== 'Fail' && last.outcome === v.outcome && last.at > since;
  });
}
