import type { Instance, Phase, RollbackContract, RollbackLog, Step, Verdict, Weights } from './types.ts';

/** A revision as the core knows it: its key (route and metrics key) and its version label. */
export interface RevisionRef {
  key: string;
  version: string;
}

/** How a revision's instances stand. */
export type RuntimeStatus = 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

export interface RevisionRuntime extends RevisionRef {
  status: RuntimeStatus;
  instances: Instance[];
  /** Times of instance crashes, newest last, kept for the `instance_crashes` metric. */
  crashes: number[];
}

/** Why a release was started. */
export type ReleaseKind = 'deploy' | 'canary' | 'retry' | 'undo';

/** Where a release stands; `Succeeded`, `RolledBack` and `Aborted` are final. */
export type ReleaseStatus = 'Starting' | 'Progressing' | 'Paused' | 'Succeeded' | 'RolledBack' | 'Aborted' | 'Failed';

export interface PauseState {
  reason: 'step' | 'user' | 'inconclusive';
  detail: string;
  by: string;
  at: number;
}

/** Per-rule bookkeeping of the rollback contract. */
export interface RuleState {
  consecutiveFails: number;
  totalFails: number;
  /** Since when the rule has been Inconclusive without a break (null: it is not). */
  inconclusiveSince: number | null;
  last: Verdict | null;
}

export interface ReleaseState {
  id: string;
  /** 1, 2, 3 … per service. */
  number: number;
  kind: ReleaseKind;
  /** The stable revision when the release started (null for a first deploy). */
  from: RevisionRef | null;
  to: RevisionRef;
  steps: Step[];
  contract: RollbackContract;
  status: ReleaseStatus;
  startedAt: number;
  startedBy: string;
  endedAt: number | null;
  /** Index of the current step; equal to steps.length once all steps are done. */
  stepIndex: number;
  stepStartedAt: number;
  pause: PauseState | null;
  /** All traffic was moved to the new revision; the release succeeds once the router confirms it. */
  completing: boolean;
  rules: Record<string, RuleState>;
  /** When the contract was last evaluated (for the interval). */
  analysedAt: number | null;
  rollback: RollbackLog | null;
  /** Failure of a first deploy or similar, for people to read. */
  error: string | null;
}

export interface ServiceState {
  service: string;
  /** Revision taking traffic when no release is in progress. */
  stable: RevisionRef | null;
  /** The weights last decided (what the router must serve). */
  weights: Weights;
  /** The weights the router last confirmed it serves. */
  appliedWeights: Weights;
  runtimes: Record<string, RevisionRuntime>;
  /** The current release, or the last one. */
  release: ReleaseState | null;
  /** How many releases were ever started (numbers stay unique across a delete and re-create). */
  releases: number;
  /** Why the service is Degraded, or null. */
  degraded: string | null;
  /** Sequence of the last event folded in. */
  seq: number;
}

export function emptyState(service: string): ServiceState {
  return { service, stable: null, weights: {}, appliedWeights: {}, runtimes: {}, release: null, releases: 0, degraded: null, seq: 0 };
}

export type ActiveRelease = ReleaseState & { status: 'Starting' | 'Progressing' | 'Paused' };

export function isActive(release: ReleaseState | null | undefined): release is ActiveRelease {
  return release != null && (release.status === 'Starting' || release.status === 'Progressing' || release.status === 'Paused');
}

/** The phase the API and CLI show. */
export function phaseOf(state: ServiceState): Phase {
  const r = state.release;
  if (state.degraded !== null) return 'Degraded';
  if (r === null) return 'Healthy';
  switch (r.status) {
    case 'Starting':
    case 'Progressing':
      return 'Progressing';
    case 'Paused':
      return 'Paused';
    case 'RolledBack':
      return 'RolledBack';
    case 'Aborted':
      return 'Aborted';
    case 'Failed':
      return state.stable === null ? 'Degraded' : 'RolledBack';
    case 'Succeeded':
      return 'Healthy';
  }
}

/** The canary's current weight (0 when no release is active). */
export function canaryWeight(state: ServiceState): number {
  const r = state.release;
  if (!isActive(r)) return 0;
  return state.weights[r.to.key] ?? 0;
}
