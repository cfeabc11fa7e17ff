import type { Accumulated, Counts } from '../analysis/accumulate.ts';
import type { RulePoints } from '../analysis/rules/mann-whitney-rule.ts';
import type { CohortRoute, ReleasePlan, ReleaseStep } from './strategy.ts';
import type { Instance, Phase, RollbackContract, RollbackLog, Verdict, Weights } from '../types.ts';

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

/**
 * Where a release stands; `Succeeded`, `RolledBack` and `Aborted` are final. `Verifying`: all
 * traffic is on the new revision, still watched by the contract, the old one kept running.
 */
export type ReleaseStatus =
  'Starting' | 'Progressing' | 'Paused' | 'Verifying' | 'Succeeded' | 'RolledBack' | 'Aborted' | 'Failed';

/** Why a release waits: a pause step, a user, analysis without data, or a failed gate with `onFail: pause`. */
/** `dataPlane`: the router's data plane kept dying (data-plane.ts). */
export type PauseReason = 'step' | 'user' | 'inconclusive' | 'failed' | 'dataPlane';

export interface PauseState {
  reason: PauseReason;
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
  steps: ReleaseStep[];
  /** The rest of the release plan: strategy, verify window, probes, scale-down delay. */
  plan: Omit<ReleasePlan, 'steps'>;
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
  /** Evaluations in a row in which the metrics provider failed (absent: none yet). */
  metricsErrors?: number;
  /** External signals received during the release: name → times. */
  signals?: Record<string, number[]>;
  /** Both revisions' counts since the canary started, for the sequential judge. */
  accumulated?: Accumulated;
  /** The canary's current share of traffic: since when, and the counts then (verdicts judge what came after). */
  level?: TrafficLevel;
  /** Mann–Whitney rules' per-interval points of each revision. */
  points?: Record<string, RulePoints>;
  rollback: RollbackLog | null;
  /** Failure of a first deploy or similar, for people to read. */
  error: string | null;
  /** The smoke check of the current (or last) smoke step: null while it runs. */
  smoke: { index: number; startedAt: number; ok: boolean | null; detail: string | null } | null;
  /** Since when the release is Verifying (null: it is not, or not yet). */
  verifyingSince: number | null;
  /** A gradual revert in progress: the canary weights still to go through, and when the next is due. */
  revert: { steps: number[]; intervalMs: number; nextAt: number } | null;
  /** The replaced revision, kept warm after success, is stopped at `at`. */
  retire: { key: string; at: number } | null;
  /** Baseline rules were turned into fixed thresholds when the baseline stopped taking traffic. */
  contractFrozen: boolean;
}

/**
 * A share of traffic the canary holds (a weight, or a cohort route). A step moves on only on
 * evidence gathered at the current level: verdicts judge the counts since `since`.
 */
export interface TrafficLevel {
  since: number;
  /** The canary's weight at this level. */
  weight: number;
  /** Both revisions' accumulated counts when the level began (null: none yet, so everything counts). */
  base: { canary: Counts; baseline: Counts } | null;
}

/** Defaults for fields added after a release was recorded, so old logs replay. */
export const RELEASE_DEFAULTS = {
  plan: { strategy: 'canary', blueGreen: null, scaleDownDelayMs: 0, verifyMs: 0, probes: null },
  smoke: null,
  verifyingSince: null,
  revert: null,
  retire: null,
  contractFrozen: false,
} satisfies Partial<ReleaseState>;

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
  /** Cohort routes the router serves before the weights (canary setHeaderRoute, blue-green preview). */
  routes: CohortRoute[];
  /** Sequence of the last event folded in. */
  seq: number;
  /** The last failure of each driver that has not worked since (absent: none), for people to see why a service is stuck. */
  problems?: Partial<Record<DriverName, DriverProblem>>;
  /** A release waiting for its window (absent or null: none). */
  waiting?: WaitingRelease | null;
  /** When the router's data plane died, within the last DATA_PLANE_DEATH_WINDOW_MS (absent: never). */
  routerDeaths?: number[];
}

export type DriverName = 'target' | 'router' | 'metrics' | 'notifier';

export interface DriverProblem {
  operation: string;
  error: string;
  /** The first failure of this streak, and the last. */
  since: number;
  at: number;
}

/** A release held by a closed release window (see release.waiting). */
export interface WaitingRelease {
  revision: RevisionRef;
  reason: string;
  until: number | null;
  since: number;
  by: string;
}

export function emptyState(service: string): ServiceState {
  return {
    service,
    stable: null,
    weights: {},
    appliedWeights: {},
    runtimes: {},
    release: null,
    releases: 0,
    degraded: null,
    routes: [],
    seq: 0,
  };
}

export type ActiveRelease = ReleaseState & { status: 'Starting' | 'Progressing' | 'Paused' | 'Verifying' };

export function isActive(release: ReleaseState | null | undefined): release is ActiveRelease {
  const s = release?.status;
  return s === 'Starting' || s === 'Progressing' || s === 'Paused' || s === 'Verifying';
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
    case 'Verifying':
      return 'Verifying';
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

/** Whether the release's new revision takes any traffic: a weight, or a cohort route to it. */
export function canaryTakesTraffic(state: ServiceState): boolean {
  const r = state.release;
  if (!isActive(r)) return false;
  return (state.weights[r.to.key] ?? 0) > 0 || state.routes.some((route) => route.key === r.to.key);
}

/** The canary's current weight (0 when no release is active). */
export function canaryWeight(state: ServiceState): number {
  const r = state.release;
  if (!isActive(r)) return 0;
  return state.weights[r.to.key] ?? 0;
}
