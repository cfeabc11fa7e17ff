import type { Accumulated } from './analysis/accumulate.ts';
import type { MigrationEvent } from './migrations/events.ts';
import type { FlagEvent } from './flags/events.ts';
import type { DrillEvent } from './drills/events.ts';
import type { GovernanceEvent } from './plan/events.ts';
import type { TrainEvent } from './trains/train-events.ts';
import type { TrainForwarded } from './trains/types.ts';
import type { DriverName, PauseReason, ReleaseState, RevisionRef } from './release/state.ts';
import type { CohortRoute, ReleaseStep, SmokeCheck } from './release/strategy.ts';
import type { Instance, RollbackContract, RollbackLog, Verdict, Weights } from './types.ts';

/** One failed probe of an instance: when, and what came back (an HTTP status, or the error). */
export interface ProbeFailure {
  at: number;
  status: number | null;
  error: string | null;
}

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
  | {
      type: 'target.crashed';
      key: string;
      instanceId: string;
      exitCode: number | null;
      signal: string | null;
      restarted: boolean;
    }
  | { type: 'target.stopping'; key: string }
  | { type: 'target.stopped'; key: string; error: string | null }
  /** The revision replaced is kept running until `until`, so an undo before then needs no start-up. */
  | { type: 'target.retireScheduled'; key: string; until: number }
  | { type: 'step.started'; index: number; step: ReleaseStep | null }
  | { type: 'traffic.shifted'; weights: Weights; reason: string }
  /** The cohort routes the router must serve (an empty list clears them). */
  | { type: 'routes.set'; routes: CohortRoute[]; reason: string }
  /** The baseline stopped taking traffic: baseline rules now compare with its last measured figures. */
  | { type: 'contract.frozen'; contract: RollbackContract; detail: string }
  | { type: 'smoke.started'; index: number; check: SmokeCheck; timeoutMs: number }
  | { type: 'smoke.finished'; index: number; ok: boolean; detail: string; durationMs: number }
  /** An instance of the new revision failed `failures` probes in a row; `evidence` lists them. */
  | { type: 'probe.failed'; key: string; instanceId: string; url: string; failures: number; evidence: ProbeFailure[] }
  /** The router confirmed it serves new weights (decided by an earlier `traffic.shifted`). */
  | { type: 'traffic.applied'; weights: Weights }
  /** `metricsError`: the provider failed in this evaluation (counted for the contract's metricsErrors policy). */
  | {
      type: 'analysis.evaluated';
      verdicts: Verdict[];
      metricsError?: string;
      accumulated?: Accumulated;
      points?: Record<string, { canary: number | null; baseline: number | null }>;
    }
  | { type: 'release.paused'; reason: PauseReason; detail: string }
  | { type: 'release.resumed' }
  /**
   * A person moved the release on. `verdicts`: the rules' verdicts at that moment; `withoutEvidence`:
   * the rules that were not Pass (absent in logs recorded before promotes carried them).
   */
  | {
      type: 'release.promoted';
      full: boolean;
      fromStep: number;
      verdicts?: Verdict[];
      withoutEvidence?: string[];
      reason?: string;
    }
  /** 100% was decided for the new revision; `release.succeeded` follows when the router serves it. */
  | { type: 'release.completing' }
  /** The router serves 100% of the new revision; the contract watches it until `until`. */
  | { type: 'release.verifying'; until: number }
  | { type: 'release.succeeded'; stable: RevisionRef }
  | { type: 'release.failed'; error: string }
  | { type: 'rollback.started'; log: RollbackLog; status: 'RolledBack' | 'Aborted' }
  /** The revert walks the canary's weight down these steps, one per interval (`revert: gradual`). */
  | { type: 'rollback.gradual'; steps: number[]; intervalMs: number }
  /** A gradual revert was refused and traffic reverted at once, and why. */
  | { type: 'rollback.gradualRefused'; reason: string }
  | { type: 'rollback.trafficReverted'; at: number }
  | { type: 'rollback.canaryStopped'; at: number }
  | { type: 'service.degraded'; reason: string }
  | { type: 'service.recovered' }
  /** A driver call failed; recorded, retried by the engine, never a crash. */
  | { type: 'driver.failed'; driver: DriverName; operation: string; error: string }
  /** The router's data plane process died (a problem until `router.restarted`); counted for a pause (data-plane.ts). */
  | { type: 'router.died'; pid: number; detail: string }
  /** The router started its data plane again from its last table, `downMs` after the death was seen. */
  | { type: 'router.restarted'; pid: number; downMs: number }
  /** The table read back from the router differs from the intended one (changed behind Sluice's back); it is re-asserted. */
  | { type: 'router.drifted'; differences: string[] }
  /** A router over several hosts: when each host confirmed `weights`, and why the others did not. */
  | {
      type: 'router.hostsApplied';
      weights: Record<string, number>;
      applied: Record<string, number>;
      unreachable: Record<string, string>;
    }
  | { type: 'service.deleted' }
  /** Server-level changes, logged under `_server` (engine/server-log.ts): API tokens and the release policy. */
  /** `environment`: the one environment an sdk token reads. */
  | {
      type: 'token.created';
      tokenId: string;
      name: string;
      role: string;
      expiresAt: number | null;
      environment?: string;
    }
  | { type: 'token.revoked'; tokenId: string; name: string }
  | {
      type: 'policy.applied';
      name: string;
      windows: number;
      freezes: number;
      /** The policy as applied: replicas write it to their own data dirs (policy-follower.ts). Absent before it was carried. */
      document?: Record<string, unknown>;
    }
  /** An admin set what specs may make the server start and call (null: no limit). */
  | { type: 'serverPolicy.applied'; allowExec: string[] | null; allowUrlHosts: string[] | null }
  /** A release was asked for while its release window was closed: it starts when the window opens. */
  | { type: 'release.waiting'; revision: RevisionRef; reason: string; until: number | null }
  /** The wait ended: the release started, a person cancelled it, or a newer spec replaced it. */
  | {
      type: 'release.waitEnded';
      revision: RevisionRef;
      outcome: 'started' | 'cancelled' | 'superseded';
      detail: string;
    }
  /** History was imported for the analytics (docs/analytics.md), logged under `_server`: where from and the counts (the rows are in the analytics store). */
  | {
      type: 'analytics.imported';
      source: 'file' | 'api' | 'webhook' | 'git';
      added: number;
      unchanged: number;
      updated: number;
      rejected: number;
    }
  /** A retrospective was opened for a rollback or an override (docs/documents.md), logged under `_server`. */
  | {
      type: 'retrospective.opened';
      id: string;
      /** The service whose release it is about (the envelope's `service` is the log, `_server`). */
      target: string;
      release: number | null;
      trigger: 'rollback' | 'override';
      reason: string;
    }
  /** The weekly delivery report (docs/analytics.md), logged under `_server` and sent to the notifiers that select `report.weekly`. */
  | { type: 'report.weekly'; environment: string; week: string; title: string; markdown: string }
  /** One owner's weekly stale-flag digest (docs/flags.md), logged under `_server` and sent to the notifiers that select it. */
  | { type: 'flag.staleDigest'; owner: string; week: string; flags: string[]; title: string; markdown: string }
  /** An external signal; counted by the release in progress for its signal rules. */
  | { type: 'signal.received'; signal: string; detail: string | null; source: string | null }
  /** Replicas: a command for `target`, received by `replica`, which does not run it; the owner carries it out. Logged under the server's log. */
  | {
      type: 'command.requested';
      target: string;
      requestId: string;
      command: string;
      args: {
        full?: boolean;
        toRevision?: string;
        reason?: string;
        signal?: string;
        detail?: string;
        source?: string;
        /** Command `train`: a person's request for a train, or a train's action on a member (core/trains TrainForwarded). */
        train?: TrainForwarded;
      };
      replica: string;
    }
  /** Replicas: the owner (`replica`) carried out a forwarded command, or refused it (`error`). */
  | {
      type: 'command.answered';
      target: string;
      requestId: string;
      error: { code: string; message: string } | null;
      replica: string;
    }
  /** Environments, plans, gates, approvals, overrides (core/plan/events.ts); logged under the service's own name. */
  | GovernanceEvent
  /** Release trains (core/trains/train-events.ts); logged under the train's own name, `_train:<name>`. */
  | TrainEvent
  /** Schema migrations released with a version (core/migrations/events.ts). */
  | MigrationEvent

  /** Feature flags and segments (core/flags/events.ts); logged under `_flags`. */
  | FlagEvent

  /** Drills (core/drills/events.ts); logged under the drills' own log name. */
  | DrillEvent;

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
