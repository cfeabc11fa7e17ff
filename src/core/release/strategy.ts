import type { RollbackContract, RollbackModes, Step } from '../types.ts';

export type { RevertMode, RollbackModes } from '../types.ts';

/**
 * How a release moves, as the core runs it: the strategy's steps (blue-green is compiled to steps
 * too, see blue-green.ts), the checks beside them, and what a failure does. Plain JSON, stored
 * with the release.
 */

/** A cohort: requests whose header (or cookie) equals `value`. */
export type CohortMatch = { header: string; value: string } | { cookie: string; value: string };

/** A route sending a cohort to one revision whatever the weights (what the router receives). */
export interface CohortRoute {
  key: string;
  match: CohortMatch;
}

/** A smoke check: a command (pass = exit code 0) or an HTTP request (pass = the expected status). */
export type SmokeCheck = { command: string[] } | { http: { url: string; expectStatus: number } };

/** Every step a release can take: the canary's weights and pauses, plus cohort routes, smoke gates and analysis gates. */
export type ReleaseStep =
  | Step
  /** Send the cohort to the new revision before (or beside) any percentage; `match: null` clears the route. */
  | { kind: 'setHeaderRoute'; match: CohortMatch | null }
  /** Run a smoke check beside the loop; the release moves on when it passes and fails when it fails. */
  | { kind: 'smoke'; check: SmokeCheck; timeoutMs: number }
  /** Wait until every rule's latest verdict is Pass (blue-green pre- and post-promotion analysis). */
  | { kind: 'analysis' }
  /** Expose a feature flag's rule to `percent` in an environment (docs/flags.md); raising it waits for evidence, as setWeight does. */
  | { kind: 'setFlag'; flag: string; environment: string; percent: number; rule: string | null };

/** Active HTTP probes of each instance of the new revision. */
export interface ProbePlan {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** This many failures in a row of one instance fail the release. */
  failureThreshold: number;
}

export interface BlueGreenPlan {
  /** How people reach the new revision before the switch. */
  preview: { listen: string } | { header: string; value: string };
  prePromotionAnalysis: boolean;
  /** true: switch once analysis passes; false: wait for promote; a number: switch this long after the preview opened. */
  autoPromotion: boolean | { afterMs: number };
  /** How long the contract watches the new active revision after the switch (0: not at all). */
  postPromotionMs: number;
}

export interface ReleasePlan {
  strategy: 'canary' | 'blueGreen';
  steps: ReleaseStep[];
  blueGreen: BlueGreenPlan | null;
  /** The revision replaced stays running this long after the release succeeds, so `undo` is instant. */
  scaleDownDelayMs: number;
  /** How long the release stays in Verifying at 100%, still watched by the contract (0: no Verify phase). */
  verifyMs: number;
  probes: ProbePlan | null;
}

/** A canary plan of plain steps: what releases were before plans existed. */
export function canaryPlan(steps: ReleaseStep[]): ReleasePlan {
  return { strategy: 'canary', steps, blueGreen: null, scaleDownDelayMs: 0, verifyMs: 0, probes: null };
}

/** The contract's rollback modes; a contract without them rolls back instantly. */
export function modesOf(contract: RollbackContract & Partial<RollbackModes>): RollbackModes {
  return { onFail: contract.onFail ?? 'rollback', revert: contract.revert ?? { kind: 'instant' } };
}

const describeMatch = (m: CohortMatch) =>
  'header' in m ? `header ${m.header}: ${m.value}` : `cookie ${m.cookie}=${m.value}`;

/** One line a person reads in `status`: "setWeight 10", "smoke GET http://…". */
export function describeStep(step: ReleaseStep | undefined): string | null {
  if (step === undefined) return null;
  switch (step.kind) {
    case 'setWeight':
      return `setWeight ${step.weight}`;
    case 'pause':
      return step.durationMs === null ? 'pause (until promoted)' : `pause ${step.durationMs / 1000}s`;
    case 'setHeaderRoute':
      return step.match === null ? 'clear header route' : `setHeaderRoute ${describeMatch(step.match)}`;
    case 'smoke':
      return 'command' in step.check ? `smoke ${step.check.command.join(' ')}` : `smoke GET ${step.check.http.url}`;
    case 'analysis':
      return 'analysis (until every rule passes)';
    case 'setFlag':
      return `setFlag ${step.flag} ${step.percent}% in ${step.environment}`;
  }
}
