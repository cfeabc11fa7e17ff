/**
 * Drill events, recorded in the hash-chained log under the drills' own log name (engine's
 * `_drills`, a name no service can have), each naming its drill, run and the service drilled (`drilled`; `service` is the log's name). Part of
 * core/events.ts's EventBody; the drill record (record.ts) is folded from them.
 */
import type { ActiveFault, FaultRule } from './fault.ts';
import type { GameDay } from './gameday.ts';
import type { RehearsalResult } from './rehearsal-types.ts';

/** Per-second samples: `at[i]` ends the second sample i counts; per revision key its requests and errors in it (null: no data). */
export interface DrillTraffic {
  at: number[];
  byKey: Record<string, { requests: (number | null)[]; errors: (number | null)[] }>;
}

/** What a drill did to an instance: a method's kill / stop / restart, and the resume that ends every stop. */
export type InstanceFault = 'kill' | 'stop' | 'resume' | 'restart';

/** The log name drill events are recorded under: no service can have it (service names are DNS labels). */
export const DRILL_LOG = '_drills';

export type DrillPhase = 'before' | 'during' | 'after';
export const DRILL_VERDICTS = ['passed', 'deviated', 'aborted', 'interrupted'] as const;
/** passed: the hypothesis held and every fault was detected; deviated: it did not; aborted: a stop condition or the safety lever ended it; interrupted: the controller died mid-drill. */
export type DrillVerdict = (typeof DRILL_VERDICTS)[number];

/** One probe's answers in one phase. */
export interface ProbeTally {
  probe: string;
  good: number;
  total: number;
  tolerance: number;
  weight: number;
}

export interface ActionItem {
  text: string;
  owner: string;
}

export type DrillEvent =
  /** A drill started against `drilled` (its environment's service), as `gameDay` says. */
  | { type: 'drill.started'; drill: string; run: number; drilled: string; gameDay: GameDay; leaseMs: number }
  /** The data plane took these faults (`step`: the method step). */
  | { type: 'drill.faultsSet'; drill: string; run: number; drilled: string; step: number; faults: FaultRule[] }
  /** The faults were removed (or found expired); `faults` holds what each hit, by the data plane's clock. */
  | {
      type: 'drill.faultsCleared';
      drill: string;
      run: number;
      drilled: string;
      step: number;
      faults: ActiveFault[];
      reason: string;
    }
  /** The target did `action` to these instances of revision `key` (`error`: it could not, and why). */
  | {
      type: 'drill.instanceFault';
      drill: string;
      run: number;
      drilled: string;
      step: number;
      action: InstanceFault;
      key: string;
      instances: string[];
      error?: string;
    }
  /** A faulted instance answers HTTP again (after its restart or resume). */
  | { type: 'drill.instanceAnswering'; drill: string; run: number; drilled: string; key: string; instance: string }
  /** Requests and errors per revision, each second of the run, from the data plane's counters (for the dashboard's charts). */
  | { type: 'drill.traffic'; drill: string; run: number; drilled: string; traffic: DrillTraffic }
  /** The probes' answers in one phase. */
  | { type: 'drill.steadyState'; drill: string; run: number; drilled: string; phase: DrillPhase; tallies: ProbeTally[] }
  /** A stop condition held, or a person pulled the safety lever: the drill aborts and every fault is removed. */
  | { type: 'drill.stopped'; drill: string; run: number; drilled: string; reason: string }
  | {
      type: 'drill.finished';
      drill: string;
      run: number;
      drilled: string;
      verdict: DrillVerdict;
      detail: string;
      timeToDetectMs: number | null;
      timeToRestoreMs: number | null;
      score: number | null;
    }
  | {
      type: 'drill.signedOff';
      drill: string;
      run: number;
      drilled: string;
      role: string;
      comment: string;
      actionItems: ActionItem[];
    }
  /** A rollback rehearsal ran for `result.environment`, in the previous environment's service (rehearsal.ts). */
  | { type: 'drill.rehearsed'; result: RehearsalResult }
  | DrillScheduleEvent;

/** A GameDay's schedule (schedule.ts): registered, removed, its reminders and its runs. */
export type DrillScheduleEvent =
  /** `gameDay` runs on its schedule from now on, as the actor who registered it (with `role`). */
  | { type: 'drill.scheduled'; drill: string; drilled: string; gameDay: GameDay; role: string }
  | { type: 'drill.unscheduled'; drill: string; drilled: string }
  /** The owners are reminded of the run at `runAt`. */
  | { type: 'drill.remind'; drill: string; drilled: string; runAt: number; owners: string[] }
  /** The run due at `runAt` was started (as run `run`) or skipped, and why. */
  | {
      type: 'drill.scheduledRun';
      drill: string;
      drilled: string;
      runAt: number;
      outcome: 'started' | 'skipped';
      run: number | null;
      reason: string;
    };

export const DRILL_SCHEDULE_EVENT_TYPES = [
  'drill.scheduled',
  'drill.unscheduled',
  'drill.remind',
  'drill.scheduledRun',
] as const satisfies readonly DrillScheduleEvent['type'][];

export const DRILL_EVENT_TYPES = [
  'drill.started',
  'drill.faultsSet',
  'drill.faultsCleared',
  'drill.instanceFault',
  'drill.instanceAnswering',
  'drill.traffic',
  'drill.steadyState',
  'drill.stopped',
  'drill.finished',
  'drill.signedOff',
  'drill.rehearsed',
  ...DRILL_SCHEDULE_EVENT_TYPES,
] as const satisfies readonly DrillEvent['type'][];

const at = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

export function isScheduleEvent(e: { type: string }): e is DrillScheduleEvent {
  return (DRILL_SCHEDULE_EVENT_TYPES as readonly string[]).includes(e.type);
}

function describeScheduleEvent(e: DrillScheduleEvent, actor: string): string {
  switch (e.type) {
    case 'drill.scheduled':
      return `drill ${e.drill} on ${e.drilled} scheduled by ${actor} (${e.gameDay.schedule?.rrule ?? 'no rule'})`;
    case 'drill.unscheduled':
      return `drill ${e.drill} on ${e.drilled} unscheduled by ${actor}`;
    case 'drill.remind':
      return `reminder: drill ${e.drill} runs on ${e.drilled} at ${at(e.runAt)}${e.owners.length > 0 ? ` (owners: ${e.owners.join(', ')})` : ''}`;
    case 'drill.scheduledRun':
      return e.outcome === 'started'
        ? `scheduled drill ${e.drill} on ${e.drilled} (due ${at(e.runAt)}) started as run #${e.run}`
        : `scheduled drill ${e.drill} on ${e.drilled} (due ${at(e.runAt)}) skipped: ${e.reason}`;
  }
}

/** A sentence per drill event, for notifications and the timeline. */
export function describeDrillEvent(e: DrillEvent, actor: string): string {
  if (isScheduleEvent(e)) return describeScheduleEvent(e, actor);
  if (e.type === 'drill.rehearsed') {
    const r = e.result;
    return `rollback rehearsal of ${r.service} ${r.version} for ${r.environment} in ${r.ranIn}: ${r.ok ? 'reverted in time' : 'failed'} (${r.detail})`;
  }
  const which = `drill ${e.drill} #${e.run} on ${e.drilled}`;
  switch (e.type) {
    case 'drill.started':
      return `${which} started by ${actor}`;
    case 'drill.faultsSet':
      return `${which}: step ${e.step + 1} injects ${e.faults.length} fault(s)`;
    case 'drill.faultsCleared':
      return `${which}: step ${e.step + 1}'s faults removed (${e.reason}); ${e.faults.reduce((n, f) => n + f.hits, 0)} request(s) hit`;
    case 'drill.instanceFault': {
      const what = {
        kill: 'killed (SIGKILL)',
        stop: 'stopped (SIGSTOP)',
        resume: 'resumed (SIGCONT)',
        restart: 'restarted',
      }[e.action];
      return e.error === undefined
        ? `${which}: step ${e.step + 1}: revision ${e.key}'s instance(s) ${e.instances.join(', ')} ${what}`
        : `${which}: step ${e.step + 1}: revision ${e.key}'s instance(s) ${e.instances.join(', ')} could not be ${what}: ${e.error}`;
    }
    case 'drill.traffic':
      return `${which}: ${e.traffic.at.length} second(s) of traffic per revision recorded`;
    case 'drill.instanceAnswering':
      return `${which}: instance ${e.instance} of revision ${e.key} answers again`;
    case 'drill.steadyState':
      return `${which}: steady state ${e.phase}: ${e.tallies.map((t) => `${t.probe} ${t.good}/${t.total}`).join(', ')}`;
    case 'drill.stopped':
      return `${which} stopped: ${e.reason}`;
    case 'drill.finished':
      return `${which} ${e.verdict}: ${e.detail}`;
    case 'drill.signedOff':
      return `${which} signed off by ${actor} (${e.role})${e.comment ? `: ${e.comment}` : ''}`;
  }
}
