import type { ReleaseState, RevisionRef } from './state.ts';
import type { Instance, RollbackLog, Step, Verdict, Weights } from './types.ts';

/**
 * Every state change of a service is one of these. The store keeps them in order; folding them
 * with `reduce` gives the current state, the history, the audit trail and the rollback logs.
 */
export type EventBody =
  /** A spec was applied; `revision` is set when its template created a new revision. */
  | { type: 'spec.applied'; revision: RevisionRef | null; templateChanged: boolean; file: string | null }
  | { type: 'release.started'; release: ReleaseState }
  | { type: 'target.starting'; ref: RevisionRef }
  | { type: 'target.ready'; key: string; instances: Instance[] }
  | { type: 'target.failed'; key: string; error: string }
  | { type: 'target.crashed'; key: string; instanceId: string; exitCode: number | null; signal: string | null; restarted: boolean }
  | { type: 'target.stopping'; key: string }
  | { type: 'target.stopped'; key: string; error: string | null }
  | { type: 'step.started'; index: number; step: Step | null }
  | { type: 'traffic.shifted'; weights: Weights; reason: string }
  /** The router confirmed it serves new weights (decided by an earlier `traffic.shifted`). */
  | { type: 'traffic.applied'; weights: Weights }
  | { type: 'analysis.evaluated'; verdicts: Verdict[] }
  | { type: 'release.paused'; reason: 'step' | 'user' | 'inconclusive'; detail: string }
  | { type: 'release.resumed' }
  | { type: 'release.promoted'; full: boolean; fromStep: number }
  /** 100% was decided for the new revision; `release.succeeded` follows when the router serves it. */
  | { type: 'release.completing' }
  | { type: 'release.succeeded'; stable: RevisionRef }
  | { type: 'release.failed'; error: string }
  | { type: 'rollback.started'; log: RollbackLog; status: 'RolledBack' | 'Aborted' }
  | { type: 'rollback.trafficReverted'; at: number }
  | { type: 'rollback.canaryStopped'; at: number }
  | { type: 'service.degraded'; reason: string }
  | { type: 'service.recovered' }
  /** A driver call failed; recorded, retried by the engine, never a crash. */
  | { type: 'driver.failed'; driver: 'target' | 'router' | 'metrics'; operation: string; error: string }
  | { type: 'service.deleted' };

export type EventType = EventBody['type'];

/** An event as stored: the body plus who did it, when, and its place in the log. */
export type ServiceEvent = EventBody & {
  service: string;
  at: number;
  actor: string;
  /** Assigned by the store; 0 before it is stored. */
  seq: number;
};

/** Actor of decisions Sluice takes by itself. */
export const CONTROLLER = 'sluice-controller';
