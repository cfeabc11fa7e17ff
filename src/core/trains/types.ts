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
  /**
   * The train as such is approved before any service starts (each run on its own): `required`
   * distinct people of `role` or above, none of them the one who asked for the run (four-eyes).
   */
  approvals?: TrainApprovalPolicy;
  /** The server's release policy (its metadata.name): no service of the train starts while its window is closed. */
  window?: { policy: string };
}

export const APPROVAL_ROLES = ['approver', 'admin'] as const;
/** The names and roles of the environments' approval gates (spec/environments-schema.ts). */
export interface TrainApprovalPolicy {
  required: number;
  role: (typeof APPROVAL_ROLES)[number];
}

/** One approval of a run: who, with what role, when, and what they said. */
export interface TrainApproval {
  by: string;
  role: string;
  at: number;
  comment: string | null;
}

/** Whether a service may start now by the release policy, and if not why and until when (core/windows' WindowState). */
export interface TrainWindow {
  open: boolean;
  reason: string;
  until: number | null;
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
 * Scheduled: waits for its next run (a train calendar); WaitingForApproval: a run that asks for
 * approvals (spec.approvals), nothing started yet; Rejected: a person refused that run; Running; Succeeded: every service runs its
 * version; Failed: stopped (holdOthers, or a rollback that did not complete); RollingBack →
 * RolledBack; Aborted by a person.
 */
export type TrainStatus =
  | 'Scheduled'
  | 'WaitingForApproval'
  | 'Rejected'
  | 'Running'
  | 'Succeeded'
  | 'Failed'
  | 'RollingBack'
  | 'RolledBack'
  | 'Aborted';

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
  /** Who asked for this run (applied or retried the train; for a scheduled run, who applied the schedule): never its approver. */
  requestedBy: string;
  /** The approvals this run got (spec.approvals). */
  approvals: TrainApproval[];
  /** Services of the train held by a closed release window (spec.window), why and until when; null: none. */
  window: { services: string[]; reason: string; until: number | null } | null;
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
  /** For a train with spec.window: whether the service's release window is open now (absent: not asked). */
  window?: TrainWindow;
}

/** What the engine does for the train. */
export type TrainAction =
  | { kind: 'release'; service: string; version: string }
  | { kind: 'rollback'; service: string; toRevision: string; version: string }
  | { kind: 'abort'; service: string; reason: string };

/** Where a train's positions were written: the apply's `at`, by field path (spec.services.0 …). */
export type TrainPositions = Record<string, { file: string; line: number; column: number }>;

/**
 * Replicas: what a replica sends on (a `command.requested` of command `train`) to the one that runs
 * a train (a person's apply, approve, reject, abort, retry), or to the one that runs a member
 * service (`act`: the train's action on it, performed there under that service's lease).
 */
export type TrainForwarded =
  | { kind: 'apply'; spec: TrainSpec; at: TrainPositions; file: string }
  | { kind: 'approve'; role: string; comment: string | null }
  | { kind: 'reject'; role: string; comment: string }
  | { kind: 'abort' }
  | { kind: 'retry' }
  | { kind: 'act'; train: string; environment?: string; action: TrainAction };
