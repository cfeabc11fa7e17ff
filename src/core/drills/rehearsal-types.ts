/**
 * The rehearsal gate's data (rehearsal.ts): what an environment asks, one rehearsal's result, and
 * what the gate reads. Apart from the gate so the plan's types (core/plan/types.ts) can name them.
 */

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
