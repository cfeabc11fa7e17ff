/**
 * Evidence at the canary's current share of traffic: the counts since the level began, the
 * canary's request rate there, and the share of the false-rollback budget α each level spends.
 */
import { type Accumulated, difference } from './accumulate.ts';
import type { LevelCounts } from './observation.ts';
import type { ReleaseState } from '../release/state.ts';

export type { LevelCounts } from './observation.ts';

/** Shares of traffic the plan gives the canary: weights above 0, cohort routes, and the verify window. */
export function plannedLevels(r: Pick<ReleaseState, 'steps' | 'plan'>): number {
  let n = 0;
  for (const step of r.steps) {
    if (step.kind === 'setWeight' && step.weight > 0) n++;
    if (step.kind === 'setHeaderRoute' && step.match !== null) n++;
  }
  if (r.plan.verifyMs > 0) n++;
  return Math.max(1, n);
}

export function levelCounts(acc: Accumulated, r: ReleaseState, now: number): LevelCounts {
  const base = r.level?.base ?? null;
  const canary = base === null ? acc.canary.sum : difference(acc.canary.sum, base.canary);
  const baseline = base === null ? acc.baseline.sum : difference(acc.baseline.sum, base.baseline);
  const since = r.level?.since ?? r.startedAt;
  const elapsed = now - since;
  const weight = r.level?.weight ?? 0;
  const baselinePerCanary =
    weight > 0 && weight < 100
      ? (100 - weight) / weight
      : canary.requests > 0
        ? baseline.requests / canary.requests
        : null;
  return {
    canary,
    baseline,
    since,
    levels: plannedLevels(r),
    canaryRps: elapsed >= 1000 ? canary.requests / (elapsed / 1000) : null,
    baselinePerCanary,
  };
}
