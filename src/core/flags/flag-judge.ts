/**
 * A flag judged as a canary is: each served variant against the off variant, on the requests
 * the built-in proxy counted for them since the flag's exposure last changed, by the same
 * sequential judges releases use (judges/sequential-rate.ts for errorRate,
 * judges/sequential-latency.ts for the contract's latency rules). A Fail gives the rollback log,
 * and the event the contract's `onFail` asks for: the flag turned off, or its exposure frozen.
 */
import { sequentialLatency, type LatencyJudgment } from '../analysis/judges/sequential-latency.ts';
import { sequentialRate, type RateJudgment } from '../analysis/judges/sequential-rate.ts';
import { formatFigure } from '../analysis/figures.ts';
import type { HistogramCounts } from '../types.ts';
import type { FlagEvent, FlagRollbackLog } from './events.ts';
import type { FeatureFlag, FlagLatencyRule } from './model.ts';
import { rulePercent } from './ramp.ts';

export interface VariantTally {
  requests: number;
  errors: number;
  /** The proxy's latency histogram (ms buckets, core/analysis/histogram.ts); absent: no latency rule can judge. */
  latency?: HistogramCounts;
}

export type FlagVerdict =
  | { variant: string; rule: 'errorRate'; judgment: RateJudgment }
  | { variant: string; rule: FlagLatencyRule; judgment: LatencyJudgment };

const QUANTILE: Record<FlagLatencyRule['metric'], number> = {
  latency_p50: 0.5,
  latency_p90: 0.9,
  latency_p95: 0.95,
  latency_p99: 0.99,
};

/** The counts since a mark (the proxy's counts only grow while it runs). */
export function tallySince(now: VariantTally, mark: VariantTally | undefined): VariantTally {
  const latency: HistogramCounts = {};
  for (const [key, n] of Object.entries(now.latency ?? {})) {
    const bucket = Number(key);
    const d = n - (mark?.latency?.[bucket] ?? 0);
    if (d > 0) latency[bucket] = d;
  }
  return {
    requests: now.requests - (mark?.requests ?? 0),
    errors: now.errors - (mark?.errors ?? 0),
    latency,
  };
}

/** One verdict per served variant with traffic and per rule (none without a contract). */
export function judgeFlag(flag: FeatureFlag, tallies: Record<string, VariantTally>): FlagVerdict[] {
  const c = flag.rollbackContract;
  if (c === undefined) return [];
  const off = tallies[flag.offVariant] ?? { requests: 0, errors: 0 };
  return Object.entries(tallies)
    .filter(([variant, t]) => variant !== flag.offVariant && t.requests > 0)
    .flatMap(([variant, t]): FlagVerdict[] => [
      {
        variant,
        rule: 'errorRate',
        judgment: sequentialRate(
          { canary: t, baseline: off },
          {
            condition: { op: 'above', reference: 'baseline', by: c.errorRate.by, times: c.errorRate.times },
            alpha: c.alpha,
            minSamples: c.minSamples,
          },
        ),
      },
      ...(c.latency ?? []).map((rule): FlagVerdict => ({
        variant,
        rule,
        judgment: sequentialLatency(
          { canary: { latency: t.latency ?? {} }, baseline: { latency: off.latency ?? {} } },
          {
            condition: rule.failIf,
            quantile: QUANTILE[rule.metric],
            alpha: c.alpha,
            minSamples: rule.minSamples ?? c.minSamples,
          },
        ),
      })),
    ]);
}

const ms = (x: number) => formatFigure('latency_p95', x);

/** The rule that failed, in the words of the contract: `latency_p99: on above off + 50ms`. */
function triggerOf(flag: FeatureFlag, v: FlagVerdict): string {
  if (v.rule === 'errorRate') {
    const e = flag.rollbackContract!.errorRate;
    return `errorRate: ${v.variant} above ${flag.offVariant} × ${e.times} + ${e.by}`;
  }
  const f = v.rule.failIf;
  const against =
    f.reference === 'baseline'
      ? `${flag.offVariant}${f.times !== undefined ? ` × ${f.times}` : ''}${f.by !== undefined ? ` ${f.op === 'above' ? '+' : '−'} ${ms(f.by)}` : ''}`
      : ms(f.reference);
  const name = v.rule.name === v.rule.metric ? v.rule.name : `${v.rule.name} (${v.rule.metric})`;
  return `${name}: ${v.variant} ${f.op} ${against}`;
}

function figuresOf(flag: FeatureFlag, v: FlagVerdict): FlagRollbackLog['figures'] {
  if (v.rule === 'errorRate') {
    const f = v.judgment.figures;
    return {
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
    };
  }
  const f = (v.judgment as LatencyJudgment).figures;
  return {
    variant: v.variant,
    metric: v.rule.metric,
    requests: f.canaryRequests,
    quantileMs: f.canaryQuantileMs,
    offVariant: flag.offVariant,
    offRequests: f.baselineRequests,
    offQuantileMs: f.baselineQuantileMs,
    thresholdMs: f.thresholdMs,
    limitMs: f.limitMs,
    beyondLimit: f.canaryBeyond,
    beyondShare: f.canaryBeyondShare,
    allowedShare: f.allowedShare,
    eValue: f.eValue,
    eThreshold: f.eThreshold,
  };
}

/** The rollback log of a failed verdict: the contract's rule, the figures, and the exposure it stopped. */
export function flagRollbackLog(flag: FeatureFlag, v: FlagVerdict, at: number): FlagRollbackLog {
  const c = flag.rollbackContract!;
  const exposing = exposingRule(flag);
  return {
    trigger: triggerOf(flag, v),
    detail: v.judgment.reason,
    figures: { ...figuresOf(flag, v), rule: exposing?.name ?? null },
    environment: c.environment,
    percent: exposing === null ? null : rulePercent(exposing, at),
    at,
  };
}

function exposingRule(flag: FeatureFlag) {
  const env = flag.environments[flag.rollbackContract!.environment];
  return env?.rules.find((r) => r.rollout !== undefined || r.ramp !== undefined) ?? null;
}

/**
 * What a Fail does, per the contract's `onFail`: `off` (default) turns the flag off; `pause`
 * freezes the exposing rule at the percent it has at `at` (a ramp stops moving) and holds the
 * flag there, judged no further, until a person sets it again.
 */
export function flagFailEvent(flag: FeatureFlag, v: FlagVerdict, at: number): FlagEvent {
  const log = flagRollbackLog(flag, v, at);
  if (flag.rollbackContract!.onFail !== 'pause') return { type: 'flag.rolledBack', flag: flag.name, log };
  return {
    type: 'flag.paused',
    flag: flag.name,
    environment: log.environment,
    rule: exposingRule(flag)?.name ?? null,
    log,
  };
}
