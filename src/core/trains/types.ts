/**
 * A release train: several services released together, in dependency order, rolled back together
 * in reverse (docs/trains.md). Its state is folded from its own events in the log (train-events.ts).
 */

export const ON_FAILURE = ['rollbackAll', 'holdOthers'] as const;
/** rollbackAll: stop and roll every released service back, dependents first; holdOthers: stop, roll back the failed one only. */
export type OnFailure = (typeof ON_FAILURE)[number];

export interface TrainSpec {
  name: string;
  services: { name: string; version: string }[];
  maxParallel: number;
  onFailure: OnFailure;
  /** A recurring train: each run starts at an occurrence of this rule (schedule.ts); absent: it starts when applied. */
  schedule?: { rrule: string; start: string; timeZone: string };
  /**
   * Services released through environments: the train moves them into this one, through its gates
   * as a person's release would; its members are then the environment's services (`NAME--ENV`).
   */
  environment?: string;
}

/** The services a train moves: those it names, or their services in its environment. */
export function trainMembers(spec: TrainSpec): TrainSpec['services'] {
  const env = spec.environment;
  return env === undefined ? spec.services : spec.services.map((s) => ({ ...s, name: `${s.name}--${env}` }));
}

/**
 * Where one service of the train stands. waiting: not started (its dependencies in the train are
 * not done); releasing; done: runs its train version; failed: its release did not succeed;
 * rollingBack / rolledBack: returned to its version from before the train; held: not started
 * because the train stopped.
 */
export type TrainServiceStatus = 'waiting' | 'releasing' | 'done' | 'failed' | 'rollingBack' | 'rolledBack' | 'held';

export interface TrainServiceState {
  name: string;
  version: string;
  /** What it ran when the train started (null: nothing): what a rollback returns to. */
  from: { version: string; revision: string } | null;
  status: TrainServiceStatus;
  /** The services of the train it waits for. */
  after: string[];
  startedAt: number | null;
  endedAt: number | null;
  detail: string;
}

/**
 * Scheduled: waits for its next run (a train calendar); Running; Succeeded: every service runs its
 * version; Failed: stopped (holdOthers, or a rollback that did not complete); RollingBack →
 * RolledBack; Aborted by a person.
 */
export type TrainStatus = 'Scheduled' | 'Running' | 'Succeeded' | 'Failed' | 'RollingBack' | 'RolledBack' | 'Aborted';

export interface TrainState {
  spec: TrainSpec;
  /** 1, 2 … : each start or retry is a run. */
  run: number;
  status: TrainStatus;
  services: TrainServiceState[];
  startedAt: number;
  endedAt: number | null;
  detail: string;
  /** When a scheduled train runs next (null: not scheduled). */
  nextRunAt: number | null;
}

/** What the train sees of one of its services at a moment (from the service's own state). */
export interface ServiceObservation {
  /** The version serving all traffic (null: none). */
  stable: string | null;
  /**
   * The release in progress or last ended: to what version, its status, why it ended; `reverting`
   * while a rollback has begun and its traffic is not yet back on the previous version.
   */
  release: { to: string; status: string; kind: string; detail: string; reverting?: boolean } | null;
  /** A release waiting for its window or its dependencies, and why. */
  waiting: string | null;
}

/** What the engine does for the train. */
export type TrainAction =
  | { kind: 'release'; service: string; version: string }
  | { kind: 'rollback'; service: string; toRevision: string; version: string }
  | { kind: 'abort'; service: string; reason: string };
