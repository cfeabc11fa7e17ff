/**
 * The sequential judge for rates (error_rate): is the canary's error rate worse than the rule allows,
 * with a false-Fail probability of at most α over the whole release, however often it is asked?
 *
 * Method: two time-uniform confidence sequences (mixture.ts; Howard et al. 2021), one per revision,
 * each at level α/2. The rule "fail if canary > baseline × times + by" has the null hypothesis
 * H0: p_canary ≤ p_baseline × times + by. The judge fails when the canary's lower bound is above the
 * baseline's upper bound × times + by. If H0 holds and both sequences cover their rates (probability
 * ≥ 1 − α, at every look at once, by Ville's inequality and a union bound), that cannot happen:
 *   lower(canary) ≤ p_canary ≤ p_baseline × times + by ≤ upper(baseline) × times + by.
 * Equivalently: the canary's mixture e-value against the limit upper(baseline) × times + by reaches 2/α.
 * A fixed threshold (`reference: 0.02`) needs no baseline and spends all of α on the canary.
 *
 * Inputs are cumulative counts since the canary started. The sequences depend only on each
 * revision's own (requests, errors), so a change of traffic weights mid-release keeps them valid.
 */
import { formatFigure } from '../figures.ts';
import type { Condition } from '../types.ts';
import { type Interval, formatEvidence, type Judgment } from './judgment.ts';
import { logMixtureEValue, lowerBound, upperBound } from './mixture.ts';

export interface RateCounts {
  requests: number;
  errors: number;
}

export interface SequentialRateInput {
  canary: RateCounts;
  /** Needed for baseline rules; ignored for a fixed threshold. */
  baseline: RateCounts;
}

export interface SequentialOptions {
  /** The rule's condition: op, reference (baseline or a fixed value), by, times. */
  condition: Condition;
  /** Probability of failing a canary that meets the rule, over its whole life. Default 0.005, so a contract with an error-rate and a latency rule fails a healthy canary with probability ≤ 1%. */
  alpha?: number;
  /** Requests each revision needs before a Pass (a Fail needs no minimum: the test is valid at any n). Default 50. */
  minSamples?: number;
}

export interface SequentialRateFigures {
  alpha: number;
  /** The canary's mixture e-value against `limit` (capped at 1 when the canary's rate is within it). */
  eValue: number;
  /** Fail when eValue ≥ this: 2/α against a baseline, 1/α against a fixed threshold. */
  eThreshold: number;
  /** The rate the canary is tested against: upper(baseline) × times + by ("above") or lower(baseline) × times − by ("below"). */
  limit: number;
  canaryRate: number | null;
  baselineRate: number | null;
  /** Time-uniform confidence intervals, each at the level its side of the test spends. */
  canaryInterval: Interval;
  baselineInterval: Interval | null;
  canaryRequests: number;
  canaryErrors: number;
  baselineRequests: number;
  baselineErrors: number;
}

export const DEFAULT_ALPHA = 0.005;
export const DEFAULT_MIN_SAMPLES = 50;

export function sequentialRate(input: SequentialRateInput, options: SequentialOptions): Judgment<SequentialRateFigures> {
  const { condition } = options;
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const vsBaseline = condition.reference === 'baseline';
  const sideAlpha = vsBaseline ? alpha / 2 : alpha;
  const above = condition.op === 'above';
  const { canary, baseline } = input;
  const times = condition.times ?? 1;
  const by = condition.by ?? 0;

  let limit: number;
  let baselineInterval: Interval | null = null;
  if (vsBaseline) {
    baselineInterval = [lowerBound(baseline.errors, baseline.requests, sideAlpha), upperBound(baseline.errors, baseline.requests, sideAlpha)];
    limit = above ? baselineInterval[1] * times + by : baselineInterval[0] * times - by;
  } else {
    limit = condition.reference as number;
  }
  limit = Math.min(1, Math.max(0, limit));

  const canaryRate = canary.requests > 0 ? canary.errors / canary.requests : null;
  const beyond = canaryRate !== null && (above ? canaryRate > limit : canaryRate < limit);
  const logE = canary.requests > 0 ? logMixtureEValue(canary.errors, canary.requests, limit) : 0;
  const eValue = beyond ? Math.exp(logE) : Math.min(1, Math.exp(logE));
  const eThreshold = 1 / sideAlpha;
  const figures: SequentialRateFigures = {
    alpha,
    eValue,
    eThreshold,
    limit,
    canaryRate,
    baselineRate: vsBaseline && baseline.requests > 0 ? baseline.errors / baseline.requests : null,
    canaryInterval: [lowerBound(canary.errors, canary.requests, sideAlpha), upperBound(canary.errors, canary.requests, sideAlpha)],
    baselineInterval,
    canaryRequests: canary.requests,
    canaryErrors: canary.errors,
    baselineRequests: baseline.requests,
    baselineErrors: baseline.errors,
  };

  const pct = (x: number) => formatFigure('error_rate', x);
  const seen = `canary ${canaryRate === null ? 'n/a' : pct(canaryRate)} (${canary.errors}/${canary.requests})` +
    (vsBaseline ? `, baseline ${figures.baselineRate === null ? 'n/a' : pct(figures.baselineRate)} (${baseline.errors}/${baseline.requests})` : '');
  const evidence = `e-value ${formatEvidence(eValue)} vs ${formatEvidence(eThreshold)} needed (α ${alpha})`;
  const limitText = `${above ? 'at most' : 'at least'} ${pct(limit)}`;
  if (beyond && logE >= Math.log(eThreshold)) {
    const bound = above ? `at least ${pct(figures.canaryInterval[0])}` : `at most ${pct(figures.canaryInterval[1])}`;
    return { judge: 'sequential', outcome: 'Fail', figures, reason: `error_rate ${seen}: the canary's rate is ${bound}, the rule allows ${limitText}; ${evidence}` };
  }
  if (canary.requests < minSamples || (vsBaseline && baseline.requests < minSamples)) {
    return {
      judge: 'sequential', outcome: 'Inconclusive', figures,
      reason: `error_rate ${seen}: ${minSamples} requests of each revision needed before a Pass; no significant regression so far (${evidence})`,
    };
  }
  return { judge: 'sequential', outcome: 'Pass', figures, reason: `error_rate ${seen}: no significant regression beyond ${limitText} (${evidence})` };
}
