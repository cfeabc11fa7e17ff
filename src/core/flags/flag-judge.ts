/**
 * A flag judged as a canary is: each served variant against the off variant, on the requests
 * the built-in proxy counted for them since the flag's exposure last changed, by the same
 * sequential judge releases use (judges/sequential-rate.ts). A Fail gives the rollback log that
 * turns the flag off.
 */
import { sequentialRate, type RateJudgment } from '../analysis/judges/sequential-rate.ts';
import type { FlagRollbackLog } from './events.ts';
import type { FeatureFlag } from './model.ts';
import { rulePercent } from './ramp.ts';

export interface VariantTally {
  requests: number;
  errors: number;
}

export interface FlagVerdict {
  variant: string;
  judgment: RateJudgment;
}

/** One verdict per served variant with traffic (none without a contract or an off variant's traffic). */
export function judgeFlag(flag: FeatureFlag, tallies: Record<string, VariantTally>): FlagVerdict[] {
  const c = flag.rollbackContract;
  if (c === undefined) return [];
  const off = tallies[flag.offVariant] ?? { requests: 0, errors: 0 };
  return Object.entries(tallies)
    .filter(([variant, t]) => variant !== flag.offVariant && t.requests > 0)
    .map(([variant, t]) => ({
      variant,
      judgment: sequentialRate(
        { canary: t, baseline: off },
        {
          condition: { op: 'above', reference: 'baseline', by: c.errorRate.by, times: c.errorRate.times },
          alpha: c.alpha,
          minSamples: c.minSamples,
        },
      ),
    }));
}

/** The rollback log of a failed verdict: the contract's rule, the figures, and the exposure it stopped. */
export function flagRollbackLog(flag: FeatureFlag, v: FlagVerdict, at: number): FlagRollbackLog {
  const c = flag.rollbackContract!;
  const env = flag.environments[c.environment];
  const exposing = env?.rules.find((r) => r.rollout !== undefined || r.ramp !== undefined) ?? null;
  const f = v.judgment.figures;
  return {
    trigger: `errorRate: ${v.variant} above ${flag.offVariant} × ${c.errorRate.times} + ${c.errorRate.by}`,
    detail: v.judgment.reason,
    figures: {
      variant: v.variant,
      requests: f.canaryRequests,
      errors: f.canaryErrors,
      errorRate: f.canaryRate,
      offVariant: flag.offVariant,
      offRequests: f.baselineRequests,
      offErrors: f.baselineErrors,
      offErrorRate: f.baselineRate,
      lowerBound: f.canaryInterval[0],
      limit: f.limit,
      eValue: f.eValue,
      eThreshold: f.eThreshold,
      rule: exposing?.name ?? null,
    },
    environment: c.environment,
    percent: exposing === null ? null : rulePercent(exposing, at),
    at,
  };
}
