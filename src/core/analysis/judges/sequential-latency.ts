/**
 * The sequential judge for a latency quantile (latency_p95 …): is the canary's q-quantile above the
 * rule's limit, with a false-Fail probability of at most α over the whole release?
 *
 * Method: a sequential test on the proportion of canary requests slower than a limit, built from
 * the same time-uniform Bernoulli confidence sequences as the rate judge (mixture.ts; Howard et al.
 * 2021; quantile bounds from order statistics as in Howard & Ramdas 2022, "Sequential estimation of
 * quantiles with applications to A/B-testing and best-arm identification", Bernoulli 28(3)).
 * For the rule "fail if canary p95 > baseline p95 × times + by" (H0: q_canary ≤ q_baseline × times + by):
 * 1. Baseline: at least 5% of its requests are ≥ its true p95, so with probability ≥ 1 − α/2 at every
 *    look, at least s* of them are (s* from the confidence sequence); the s*-th slowest baseline request
 *    is then an upper bound U on the true baseline p95. limit = U × times + by ≥ the rule's true limit.
 * 2. Canary: under H0 at most 5% of its requests are slower than `limit`. The judge fails when the
 *    share of canary requests slower than `limit` is significantly above 5% (e-value ≥ 2/α).
 * A union bound over the two sides gives α in total. Histogram buckets are read conservatively
 * (upper edges for the baseline bound, lower edges for counting slow canary requests).
 * 3. Pass needs its own evidence: an upper confidence bound on the canary's quantile (the s-th
 *    slowest canary request, s from the same sequence) at most a lower bound on the baseline's
 *    quantile × times + by. Too little data leaves the bounds infinite: Inconclusive.
 * The `below` direction is the mirror image (negate the latencies).
 */
import { BUCKETS, bucketValue, quantile, total } from '../histogram.ts';
import { formatFigure } from '../figures.ts';
import type { HistogramCounts } from '../../types.ts';
import type { EvidenceBound, EvidenceNeeds } from '../../types.ts';
import { formatEvidence, type Judgment } from './judgment.ts';
import { logMixtureEValue, mostRejectedBelow } from './mixture.ts';
import { estimateNeeds } from './needs.ts';
import {
  DEFAULT_ALPHA,
  DEFAULT_MIN_SAMPLES,
  describeAllowance,
  describeNeeds,
  type SequentialOptions,
} from './sequential-rate.ts';

export interface SequentialLatencyInput {
  canary: { latency: HistogramCounts };
  /** Needed for baseline rules; ignored for a fixed threshold. */
  baseline: { latency: HistogramCounts };
}

export interface SequentialLatencyOptions extends SequentialOptions {
  /** The quantile the rule watches, e.g. 0.95 for latency_p95. */
  quantile: number;
}

export interface SequentialLatencyFigures {
  alpha: number;
  quantile: number;
  eValue: number;
  eThreshold: number;
  /** The latency (ms) the canary is tested against: bound(baseline q) × times ± by, or the fixed threshold. */
  limitMs: number | null;
  /** Time-uniform bound on the baseline's true quantile (upper for "above", lower for "below"); null until there is enough baseline data. */
  baselineBoundMs: number | null;
  canaryQuantileMs: number | null;
  baselineQuantileMs: number | null;
  /** Canary requests certainly beyond the limit (slower for "above", faster for "below"), and their share. */
  canaryBeyond: number;
  canaryBeyondShare: number | null;
  /** The share beyond the limit the rule allows: 1 − q above, q below. */
  allowedShare: number;
  canaryRequests: number;
  baselineRequests: number;
  /** The latency (ms) a Pass must be shown within: lower bound of the baseline's quantile × times ± by, or the fixed threshold. */
  passLimitMs: number | null;
  /** Upper confidence bound on the canary's quantile (lower for "below"); null until there is enough canary data. */
  canaryBoundMs: number | null;
  /** The rule's threshold at the baseline's point estimate: the line a person sees. */
  thresholdMs: number | null;
}

export interface LatencyJudgment extends Judgment<SequentialLatencyFigures> {
  bound?: EvidenceBound;
  needs?: EvidenceNeeds;
}

/** A histogram bucket as an interval of values, for reading order statistics conservatively. */
interface Span {
  lo: number;
  hi: number;
  count: number;
}

const GROWTH = bucketValue(2) / bucketValue(1);
const HALF_STEP = Math.sqrt(GROWTH);

function upperEdge(i: number): number {
  if (i >= BUCKETS - 1) return Infinity;
  return i <= 0 ? bucketValue(0) : bucketValue(i) * HALF_STEP;
}

/** Buckets as ascending spans; negated (and reversed) for the "below" direction, so one code path serves both. */
function spans(counts: HistogramCounts, negate: boolean): Span[] {
  const out: Span[] = [];
  for (const [k, count] of Object.entries(counts)) {
    if (!(count > 0)) continue;
    const i = Number(k);
    const lo = i <= 0 ? 0 : upperEdge(i - 1);
    const hi = upperEdge(i);
    out.push(negate ? { lo: -hi, hi: -lo, count } : { lo, hi, count });
  }
  return out.sort((a, b) => a.lo - b.lo);
}

/**
 * The spans' counts as if scaled from `total` to `n` requests (the same shape, more of it), read
 * in place: the estimate of what a Pass needs asks at a dozen sizes per evaluation, and copying
 * the spans for each was most of the judge's garbage. Each count is `(count × n) / total`, as a
 * scaled copy held it.
 */
interface Scale {
  n: number;
  total: number;
}

const countOf = (span: Span, scale: Scale | undefined): number =>
  scale === undefined ? span.count : (span.count * scale.n) / scale.total;

/** Upper edge of the span holding the s-th largest value (s ≥ 1). */
function sthLargestUpper(sorted: Span[], s: number, scale?: Scale): number {
  // Nothing to scale from: no spans.
  if (scale?.total === 0) return Infinity;
  let seen = 0;
  for (let i = sorted.length - 1; i >= 0; i--) {
    seen += countOf(sorted[i]!, scale);
    if (seen >= s) return sorted[i]!.hi;
  }
  return sorted[0]?.hi ?? Infinity;
}

/** Lower edge of the span holding the s-th smallest value (s ≥ 1). */
function sthSmallestLower(sorted: Span[], s: number, scale?: Scale): number {
  if (scale?.total === 0) return -Infinity;
  let seen = 0;
  for (const span of sorted) {
    seen += countOf(span, scale);
    if (seen >= s) return span.lo;
  }
  return sorted[sorted.length - 1]?.lo ?? -Infinity;
}

/** Upper confidence bound on the quantile with tail share r above it (Infinity with too little data). */
function quantileUpper(sorted: Span[], n: number, r: number, alpha: number, scale?: Scale): number {
  const s = mostRejectedBelow(n, r, alpha) + 1;
  return s > 0 ? sthLargestUpper(sorted, s, scale) : Infinity;
}

/** Lower confidence bound on the quantile with tail share r above it (−Infinity with too little data). */
function quantileLower(sorted: Span[], n: number, r: number, alpha: number, scale?: Scale): number {
  const s = mostRejectedBelow(n, 1 - r, alpha) + 1;
  return s > 0 ? sthSmallestLower(sorted, s, scale) : -Infinity;
}

/** Whether counts like these pass: the canary's upper bound within the baseline's lower bound × times + by (mirrored space). */
function passLimitOf(
  baseline: Span[],
  nB: number,
  r: number,
  alpha: number,
  times: number,
  by: number,
  scale?: Scale,
): number {
  return quantileLower(baseline, nB, r, alpha, scale) * times + by;
}

export function sequentialLatency(input: SequentialLatencyInput, options: SequentialLatencyOptions): LatencyJudgment {
  const { condition, quantile: q } = options;
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const passAlpha = options.passAlpha ?? alpha;
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const vsBaseline = condition.reference === 'baseline';
  const sideAlpha = vsBaseline ? alpha / 2 : alpha;
  const passSide = vsBaseline ? passAlpha / 2 : passAlpha;
  const below = condition.op === 'below';
  const times = condition.times ?? 1;
  const by = condition.by ?? 0;
  // In mirrored space every rule reads "fail if the canary's r-tail is beyond a limit", r = allowed share.
  const r = below ? q : 1 - q;
  const canary = spans(input.canary.latency, below);
  const baseline = spans(input.baseline.latency, below);
  const nC = total(input.canary.latency);
  const nB = total(input.baseline.latency);
  const fixed = below ? -(condition.reference as number) : (condition.reference as number);

  let limit: number; // mirrored space
  let bound: number | null = null;
  if (vsBaseline) {
    bound = quantileUpper(baseline, nB, r, sideAlpha);
    limit = bound * times + by;
  } else {
    limit = fixed;
  }
  let beyondCount = 0;
  // A span holds (lo, hi]; mirrored, [lo, hi): only "above" may count a span starting exactly at the limit.
  for (const s of canary) if (s.lo > limit || (!below && s.lo >= limit)) beyondCount += s.count;

  const share = nC > 0 ? beyondCount / nC : null;
  const beyond = share !== null && share > r;
  const logE = nC > 0 ? logMixtureEValue(beyondCount, nC, r) : 0;
  const eValue = beyond ? Math.exp(logE) : Math.min(1, Math.exp(logE));
  const eThreshold = 1 / sideAlpha;
  const passLimit = vsBaseline ? passLimitOf(baseline, nB, r, passSide, times, by) : fixed;
  const canaryBound = quantileUpper(canary, nC, r, passSide);
  const unmirror = (x: number | null) => (x === null || !Number.isFinite(x) ? null : below ? -x : x);
  const baselineQuantileMs = vsBaseline ? quantile(input.baseline.latency, q) : null;
  const figures: SequentialLatencyFigures = {
    alpha,
    quantile: q,
    eValue,
    eThreshold,
    limitMs: unmirror(limit),
    baselineBoundMs: unmirror(bound),
    canaryQuantileMs: quantile(input.canary.latency, q),
    baselineQuantileMs,
    canaryBeyond: beyondCount,
    canaryBeyondShare: share,
    allowedShare: r,
    canaryRequests: nC,
    baselineRequests: nB,
    passLimitMs: unmirror(passLimit),
    canaryBoundMs: unmirror(canaryBound),
    thresholdMs: vsBaseline
      ? baselineQuantileMs === null
        ? null
        : below
          ? baselineQuantileMs * times - by
          : baselineQuantileMs * times + by
      : (condition.reference as number),
  };

  const ms = (x: number | null) => (x === null ? 'n/a' : formatFigure('latency_p95', x));
  const name = `latency_p${Math.round(q * 100)}`;
  const seen =
    `${name} canary ${ms(figures.canaryQuantileMs)} (${nC} requests)` +
    (vsBaseline ? `, baseline ${ms(figures.baselineQuantileMs)} (${nB})` : '');
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const slower = below ? 'faster' : 'slower';
  const atMost = below ? 'at least' : 'at most';
  const rule = vsBaseline ? ` (${describeAllowance(condition, (x) => ms(x))})` : '';
  const confidence = (a: number) => `${formatEvidence((1 - a) * 100)}% confidence`;
  if (beyond && logE >= Math.log(eThreshold)) {
    return {
      judge: 'sequential',
      outcome: 'Fail',
      figures,
      ...(figures.limitMs !== null && {
        bound: {
          side: below ? 'atMost' : 'atLeast',
          value: figures.canaryQuantileMs ?? figures.limitMs,
          allowed: figures.limitMs,
          confidence: 1 - alpha,
        },
      }),
      reason: `${seen}: ${pct(share)} of canary requests are ${slower} than ${ms(figures.limitMs)}, the rule allows ${pct(r)} (${confidence(alpha)})${rule}`,
    };
  }
  const evidence: EvidenceBound | undefined =
    figures.passLimitMs !== null && figures.canaryBoundMs !== null
      ? {
          side: below ? 'atLeast' : 'atMost',
          value: figures.canaryBoundMs,
          allowed: figures.passLimitMs,
          confidence: 1 - passAlpha,
        }
      : undefined;
  const shown = Number.isFinite(canaryBound) && Number.isFinite(passLimit) && canaryBound <= passLimit;
  const enough = nC >= minSamples && (!vsBaseline || nB >= minSamples);
  const words =
    figures.canaryBoundMs === null
      ? `the canary's ${name} is not bounded yet`
      : `the canary's ${name} is ${atMost} ${ms(figures.canaryBoundMs)} at ${confidence(passAlpha)}`;
  const allowed = figures.passLimitMs === null ? 'a bounded baseline' : `${atMost} ${ms(figures.passLimitMs)}${rule}`;
  if (shown && enough) {
    return {
      judge: 'sequential',
      outcome: 'Pass',
      figures,
      ...(evidence && { bound: evidence }),
      reason: `${seen}: ${words}; the rule allows ${allowed}`,
    };
  }
  const perCanary = options.traffic?.baselinePerCanary ?? (nC > 0 ? nB / nC : 9);
  const shapeC = nC > 0 ? canary : baseline;
  const needs = estimateNeeds((extra) => {
    const n = nC + extra;
    const m = Math.round(nB + extra * perCanary);
    if (n < minSamples || (vsBaseline && m < minSamples)) return false;
    const c = quantileUpper(shapeC, n, r, passSide, { n, total: nC > 0 ? nC : nB });
    const p = vsBaseline ? passLimitOf(baseline, m, r, passSide, times, by, { n: m, total: nB }) : fixed;
    return Number.isFinite(c) && Number.isFinite(p) && c <= p;
  }, options.traffic?.canaryRps ?? null);
  const short = !enough ? `; ${minSamples} requests of each revision are needed before a Pass` : '';
  return {
    judge: 'sequential',
    outcome: 'Inconclusive',
    figures,
    needs,
    ...(evidence && { bound: evidence }),
    reason: `${seen}: not yet shown within the rule — ${words}, the rule allows ${allowed}${short}; ${describeNeeds(needs)}`,
  };
}
