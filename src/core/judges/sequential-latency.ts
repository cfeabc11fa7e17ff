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
 * The `below` direction is the mirror image (negate the latencies).
 */
import { BUCKETS, bucketValue, quantile, total } from '../histogram.ts';
import { formatFigure } from '../figures.ts';
import type { HistogramCounts } from '../types.ts';
import { formatEvidence, type Judgment } from './judgment.ts';
import { logMixtureEValue, mostRejectedBelow } from './mixture.ts';
import { DEFAULT_ALPHA, DEFAULT_MIN_SAMPLES, type SequentialOptions } from './sequential-rate.ts';

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

/** Upper edge of the span holding the s-th largest value (s ≥ 1). */
function sthLargestUpper(sorted: Span[], s: number): number {
  let seen = 0;
  for (let i = sorted.length - 1; i >= 0; i--) {
    seen += sorted[i]!.count;
    if (seen >= s) return sorted[i]!.hi;
  }
  return sorted[0]?.hi ?? Infinity;
}

export function sequentialLatency(input: SequentialLatencyInput, options: SequentialLatencyOptions): Judgment<SequentialLatencyFigures> {
  const { condition, quantile: q } = options;
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const vsBaseline = condition.reference === 'baseline';
  const sideAlpha = vsBaseline ? alpha / 2 : alpha;
  const below = condition.op === 'below';
  const times = condition.times ?? 1;
  const by = condition.by ?? 0;
  // In mirrored space every rule reads "fail if the canary's r-tail is beyond a limit", r = allowed share.
  const r = below ? q : 1 - q;
  const canary = spans(input.canary.latency, below);
  const baseline = spans(input.baseline.latency, below);
  const nC = total(input.canary.latency);
  const nB = total(input.baseline.latency);

  let limit: number; // mirrored space
  let bound: number | null = null;
  if (vsBaseline) {
    const sStar = mostRejectedBelow(nB, r, sideAlpha) + 1;
    bound = sStar > 0 ? sthLargestUpper(baseline, sStar) : Infinity;
    limit = bound * times + by;
  } else {
    limit = below ? -(condition.reference as number) : (condition.reference as number);
  }
  let beyondCount = 0;
  // A span holds (lo, hi]; mirrored, [lo, hi): only "above" may count a span starting exactly at the limit.
  for (const s of canary) if (s.lo > limit || (!below && s.lo >= limit)) beyondCount += s.count;

  const share = nC > 0 ? beyondCount / nC : null;
  const beyond = share !== null && share > r;
  const logE = nC > 0 ? logMixtureEValue(beyondCount, nC, r) : 0;
  const eValue = beyond ? Math.exp(logE) : Math.min(1, Math.exp(logE));
  const eThreshold = 1 / sideAlpha;
  const unmirror = (x: number | null) => (x === null || !Number.isFinite(x) ? null : below ? -x : x);
  const figures: SequentialLatencyFigures = {
    alpha, quantile: q, eValue, eThreshold,
    limitMs: unmirror(limit),
    baselineBoundMs: unmirror(bound),
    canaryQuantileMs: quantile(input.canary.latency, q),
    baselineQuantileMs: vsBaseline ? quantile(input.baseline.latency, q) : null,
    canaryBeyond: beyondCount,
    canaryBeyondShare: share,
    allowedShare: r,
    canaryRequests: nC,
    baselineRequests: nB,
  };

  const ms = (x: number | null) => (x === null ? 'n/a' : formatFigure('latency_p95', x));
  const name = `latency_p${Math.round(q * 100)}`;
  const seen = `${name} canary ${ms(figures.canaryQuantileMs)} (${nC} requests)` + (vsBaseline ? `, baseline ${ms(figures.baselineQuantileMs)} (${nB})` : '');
  const evidence = `e-value ${formatEvidence(eValue)} vs ${formatEvidence(eThreshold)} needed (α ${alpha})`;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const slower = below ? 'faster' : 'slower';
  if (beyond && logE >= Math.log(eThreshold)) {
    return {
      judge: 'sequential', outcome: 'Fail', figures,
      reason: `${seen}: ${pct(share)} of canary requests are ${slower} than ${ms(figures.limitMs)}, the rule allows ${pct(r)}; ${evidence}`,
    };
  }
  if (nC < minSamples || (vsBaseline && (nB < minSamples || figures.limitMs === null))) {
    return {
      judge: 'sequential', outcome: 'Inconclusive', figures,
      reason: `${seen}: ${minSamples} requests of each revision (and a bounded baseline ${name}) needed before a Pass; no significant regression so far`,
    };
  }
  return {
    judge: 'sequential', outcome: 'Pass', figures,
    reason: `${seen}: ${share === null ? 'n/a' : pct(share)} of canary requests ${slower} than ${ms(figures.limitMs)} (allowed ${pct(r)}); ${evidence}`,
  };
}
