/** What a rollback rehearsal gate reads (core/drills/rehearsal.ts) and a plan's policy carries (core/plan/types.ts). */

/** What an environment asks (spec.environments[].rehearsal, normalised). */
export interface RehearsalPolicy {
  /** Share of the canary's requests answered with an error during the rehearsal, in percent. */
  errorsPercent: number;
  maxTimeToRevertMs: number;
}

/** One rehearsal as recorded (`drill.rehearsed`). */
export interface RehearsalResult {
  service: string;
  environment: string;
  version: string;
  /** The previous environment's service it ran in. */
  ranIn: string;
  ok: boolean;
  at: number;
  timeToDetectMs: number | null;
  timeToRevertMs: number | null;
  maxTimeToRevertMs: number;
  detail: string;
}

export interface RehearsalFacts {
  /** The newest rehearsal of the plan's version for its environment (null: none). */
  last: RehearsalResult | null;
  /** The environment serves no version yet: its first release has nothing to roll back to. */
  firstRelease: boolean;
}
