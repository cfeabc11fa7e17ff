/**
 * The sequential judge for rates (error_rate, success_rate): three verdicts, each with its own
 * evidence, valid however often it is asked.
 *
 * Method: time-uniform confidence sequences (mixture.ts; Howard et al. 2021), one per revision.
 * The rule "fail if canary > baseline × times + by" is judged on the regression
 * canary − baseline × times:
 * - **Fail** when the canary's lower bound is above the baseline's upper bound × times + by. If the
 *   canary meets the rule and both sequences cover their rates (probability ≥ 1 − α at every look at
 *   once, by Ville's inequality and a union bound), that cannot happen. Equivalently: the canary's
 *   mixture e-value against the limit upper(baseline) × times + by reaches 2/α.
 * - **Pass** when the canary's upper bound is at most the baseline's lower bound × times + by: the
 *   upper confidence bound of the regression is inside the threshold, as a non-inferiority test
 *   asks. A canary worse than the rule passes with probability ≤ α, and a point estimate above the
 *   threshold can never pass (it is below its own upper bound).
 * - **Inconclusive** otherwise, with an estimate of how many more canary requests a Pass needs.
 * A fixed threshold (`reference: 0.02`) needs no baseline and spends all of α on the canary.
 * `below` rules (success_rate) are the mirror image.
 *
 * Inputs are counts since the canary took its current share of traffic; the sequences depend only
 * on each revision's own (requests, events), so the order of requests does not matter.
 */
import { formatFigure } from '../figures.ts';
import type { Condition, EvidenceBound, EvidenceNeeds, MetricName } from '../../types.ts';
import { type Interval, formatEvidence, type Judgment } from './judgment.ts';
import { logMixtureEValue, lowerBound, upperBound } from './mixture.ts';
import { estimateNeeds, rateGuess } from './needs.ts';

export interface RateCounts {
  requests: number;
  /** The events the rule counts: errors for error_rate, successes for success_rate. */
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
  /** Probability of passing a canary that does not meet the rule (default: alpha). */
  passAlpha?: number;
  /** Requests each revision needs before a Pass (a Fail needs no minimum: the test is valid at any n). Default 50. */
  minSamples?: number;
  /** The canary's requests per second now, and the baseline's requests per canary request, for the estimate of what a Pass needs. */
  traffic?: { canaryRps: number | null; baselinePerCanary: number | null };
  /** The metric's name in sentences (default error_rate). */
  metric?: MetricName;
}

export interface SequentialRateFigures {
  alpha: number;
  /** The canary's mixture e-value against `limit` (capped at 1 when the canary's rate is within it). */
  eValue: number;
  /** Fail when eValue ≥ this: 2/α against a baseline, 1/α against a fixed threshold. */
  eThreshold: number;
  /** The rate a Fail is tested against: upper(baseline) × times + by ("above") or lower(baseline) × times − by ("below"). */
  limit: number;
  /** The rate a Pass must be shown within: lower(baseline) × times + by ("above") or upper(baseline) × times − by ("below"). */
  passLimit: number;
  /** The rule's threshold at the baseline's point estimate: the line a person sees. */
  threshold: number | null;
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

export interface RateJudgment extends Judgment<SequentialRateFigures> {
  bound: EvidenceBound;
  needs?: EvidenceNeeds;
}

export const DEFAULT_ALPHA = 0.005;
export const DEFAULT_MIN_SAMPLES = 50;

const clamp = (x: number) => Math.min(1, Math.max(0, x));

/** The limits a rule puts on the canary's rate, given the baseline's interval (or none, for a fixed threshold). */
export function rateLimits(condition: Condition, baseline: Interval | null): { fail: number; pass: number } {
  if (condition.reference !== 'baseline' || baseline === null) {
    const fixed = condition.reference === 'baseline' ? Number.NaN : condition.reference;
    return { fail: fixed, pass: fixed };
  }
  const times = condition.times ?? 1;
  const by = condition.by ?? 0;
  return condition.op === 'above'
    ? { fail: clamp(baseline[1] * times + by), pass: clamp(baseline[0] * times + by) }
    : { fail: clamp(baseline[0] * times - by), pass: clamp(baseline[1] * times - by) };
}

/** Whether the canary's counts show it within the rule (its bound on the rule's side is inside passLimit). */
export function passes(
  canary: RateCounts,
  baseline: RateCounts,
  condition: Condition,
  alpha: number,
  precision = 1e-7,
): boolean {
  const vsBaseline = condition.reference === 'baseline';
  const side = vsBaseline ? alpha / 2 : alpha;
  const base: Interval | null = vsBaseline
    ? [
        lowerBound(baseline.errors, baseline.requests, side, precision),
        upperBound(baseline.errors, baseline.requests, side, precision),
      ]
    : null;
  const { pass } = rateLimits(condition, base);
  return condition.op === 'above'
    ? upperBound(canary.errors, canary.requests, side, precision) <= pass
    : lowerBound(canary.errors, canary.requests, side, precision) >= pass;
}

export function sequentialRate(input: SequentialRateInput, options: SequentialOptions): RateJudgment {
  const { condition } = options;
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const passAlpha = options.passAlpha ?? alpha;
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const metric = options.metric ?? 'error_rate';
  const vsBaseline = condition.reference === 'baseline';
  const failSide = vsBaseline ? alpha / 2 : alpha;
  const passSide = vsBaseline ? passAlpha / 2 : passAlpha;
  const above = condition.op === 'above';
  const { canary, baseline } = input;

  const baselineInterval: Interval | null = vsBaseline
    ? [
        lowerBound(baseline.errors, baseline.requests, failSide),
        upperBound(baseline.errors, baseline.requests, failSide),
      ]
    : null;
  const passBaseline: Interval | null = vsBaseline
    ? [
        lowerBound(baseline.errors, baseline.requests, passSide),
        upperBound(baseline.errors, baseline.requests, passSide),
      ]
    : null;
  const limit = rateLimits(condition, baselineInterval).fail;
  const passLimit = rateLimits(condition, passBaseline).pass;
  const canaryRate = canary.requests > 0 ? canary.errors / canary.requests : null;
  const baselineRate = vsBaseline && baseline.requests > 0 ? baseline.errors / baseline.requests : null;
  const threshold = vsBaseline
    ? baselineRate === null
      ? null
      : clamp(
          above
            ? baselineRate * (condition.times ?? 1) + (condition.by ?? 0)
            : baselineRate * (condition.times ?? 1) - (condition.by ?? 0),
        )
    : (condition.reference as number);

  const beyond = canaryRate !== null && (above ? canaryRate > limit : canaryRate < limit);
  const logE = canary.requests > 0 ? logMixtureEValue(canary.errors, canary.requests, limit) : 0;
  const eValue = beyond ? Math.exp(logE) : Math.min(1, Math.exp(logE));
  const eThreshold = 1 / failSide;
  const canaryInterval: Interval = [
    lowerBound(canary.errors, canary.requests, failSide),
    upperBound(canary.errors, canary.requests, failSide),
  ];
  const figures: SequentialRateFigures = {
    alpha,
    eValue,
    eThreshold,
    limit,
    passLimit,
    threshold,
    canaryRate,
    baselineRate,
    canaryInterval,
    baselineInterval,
    canaryRequests: canary.requests,
    canaryErrors: canary.errors,
    baselineRequests: baseline.requests,
    baselineErrors: baseline.errors,
  };

  const pct = (x: number) => formatFigure(metric, x);
  const counted = metric === 'success_rate' ? 'succeeded' : 'failed';
  const seen =
    `canary ${canaryRate === null ? 'n/a' : pct(canaryRate)} (${canary.errors}/${canary.requests} ${counted})` +
    (vsBaseline
      ? `, baseline ${baselineRate === null ? 'n/a' : pct(baselineRate)} (${baseline.errors}/${baseline.requests})`
      : '');
  const confidence = (a: number) => `${formatEvidence((1 - a) * 100)}% confidence`;
  const rule = vsBaseline ? ` (${describeAllowance(condition, pct)})` : '';

  if (beyond && logE >= Math.log(eThreshold)) {
    const value = above ? canaryInterval[0] : canaryInterval[1];
    return {
      judge: 'sequential',
      outcome: 'Fail',
      figures,
      bound: { side: above ? 'atLeast' : 'atMost', value, allowed: limit, confidence: 1 - alpha },
      reason: `${metric} ${seen}: the canary is ${above ? 'at least' : 'at most'} ${pct(value)} at ${confidence(alpha)}; the rule allows ${above ? 'at most' : 'at least'} ${pct(limit)}${rule}`,
    };
  }
  const passValue = above
    ? upperBound(canary.errors, canary.requests, passSide)
    : lowerBound(canary.errors, canary.requests, passSide);
  const bound: EvidenceBound = {
    side: above ? 'atMost' : 'atLeast',
    value: passValue,
    allowed: passLimit,
    confidence: 1 - passAlpha,
  };
  const shown = above ? passValue <= passLimit : passValue >= passLimit;
  const enough = canary.requests >= minSamples && (!vsBaseline || baseline.requests >= minSamples);
  const words = `the canary is ${above ? 'at most' : 'at least'} ${pct(passValue)} at ${confidence(passAlpha)}`;
  const allowed = `${above ? 'at most' : 'at least'} ${pct(passLimit)}${rule}`;
  if (shown && enough) {
    return {
      judge: 'sequential',
      outcome: 'Pass',
      figures,
      bound,
      reason: `${metric} ${seen}: ${words}; the rule allows ${allowed}`,
    };
  }
  const needs = estimateNeeds(
    (extra) => {
      const n = canary.requests + extra;
      const nb =
        baseline.requests +
        extra * (options.traffic?.baselinePerCanary ?? (canary.requests > 0 ? baseline.requests / canary.requests : 9));
      const pc = canaryRate ?? baselineRate ?? 0;
      const pb = baselineRate ?? 0;
      const future = (p: number, m: number): RateCounts => ({ requests: Math.round(m), errors: Math.round(p * m) });
      return (
        n >= minSamples &&
        (!vsBaseline || nb >= minSamples) &&
        passes(future(pc, n), future(pb, nb), condition, passAlpha, 1e-3)
      );
    },
    options.traffic?.canaryRps ?? null,
    Math.max(
      0,
      rateGuess(
        above ? (canaryRate ?? baselineRate ?? 0) : 1 - (canaryRate ?? baselineRate ?? 1),
        above ? passLimit : 1 - passLimit,
        passSide,
      ) - canary.requests,
    ),
  );
  const short = !enough ? `; ${minSamples} requests of each revision are needed before a Pass` : '';
  return {
    judge: 'sequential',
    outcome: 'Inconclusive',
    figures,
    bound,
    needs,
    reason: `${metric} ${seen}: not yet shown within the rule — ${words}, the rule allows ${allowed}${short}; ${describeNeeds(needs)}`,
  };
}

/** "baseline + 2.00%", "2× baseline − 1.00%". */
export function describeAllowance(c: Condition, format: (x: number) => string): string {
  const head = c.times !== undefined && c.times !== 1 ? `${c.times}× baseline` : 'baseline';
  if (c.by === undefined || c.by === 0) return head;
  return `${head} ${c.op === 'above' ? '+' : '−'} ${format(c.by)}`;
}

/** "about 310 more canary requests, ~80 s at 3.9 req/s". */
export function describeNeeds(n: EvidenceNeeds): string {
  if (n.canaryRequests === null)
    return 'at its current figures the canary will not pass: it holds, and pauses after maxInconclusive';
  const rate =
    n.canaryRps === null
      ? ''
      : n.seconds === null
        ? ''
        : `, ~${formatSeconds(n.seconds)} at ${n.canaryRps.toFixed(1)} req/s`;
  return `about ${n.canaryRequests} more canary requests needed${rate}`;
}

function formatSeconds(s: number): string {
  if (s < 120) return `${Math.max(1, Math.round(s))} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
