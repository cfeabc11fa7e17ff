/**
 * Two-sample Mann–Whitney U test (Wilcoxon rank-sum) with the Hodges–Lehmann shift estimate and its
 * confidence interval, computed as R's `wilcox.test(canary, baseline, exact = FALSE, correct = TRUE,
 * conf.int = TRUE)` and scipy's `mannwhitneyu(canary, baseline, method = "asymptotic")` do:
 * midranks for ties, the tie-corrected normal approximation, a continuity correction of ½.
 * Kayenta (Spinnaker) runs this same computation (a port of R's) with the canary as `x`.
 *
 * R finds each interval end as the root of a step function of the shift d; the function changes
 * sign only at pairwise differences canary_i − baseline_j, so the root is exactly one of them, and
 * this code selects it by rank instead of searching (R's uniroot stops within `tol.root` of it).
 * The fixtures in ./fixtures/ hold R's and scipy's values for comparison.
 */
import type { Interval } from './judgment.ts';
import { normalCdf, normalQuantile } from './special.ts';

export interface MannWhitneyResult {
  /** U of the canary sample: pairs (canary_i, baseline_j) with canary_i > baseline_j, ties counting ½ (scipy's U1). */
  u: number;
  /** The continuity-corrected, tie-corrected normal score of U. */
  z: number;
  /** Two-sided p-value. */
  pValue: number;
  /** Hodges–Lehmann estimate of the shift canary − baseline: the median of all pairwise differences. */
  estimate: number;
  /** The `confLevel` confidence interval for the shift. */
  interval: Interval;
  confLevel: number;
  canaryN: number;
  baselineN: number;
}

/** Σ (t³ − t) over groups of tied values in a sorted array. */
function tieTerm(sorted: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    const t = j - i;
    sum += t * t * t - t;
    i = j;
  }
  return sum;
}

/** U of x against y (both ascending), with midranks, and the tie term of the pooled sample: one merge pass. */
function rankSum(x: ArrayLike<number>, y: ArrayLike<number>): { u: number; ties: number } {
  let i = 0;
  let j = 0;
  let placed = 0;
  let rankSumX = 0;
  let ties = 0;
  while (i < x.length || j < y.length) {
    const v = j >= y.length || (i < x.length && x[i]! <= y[j]!) ? x[i]! : y[j]!;
    let cx = 0;
    let cy = 0;
    while (i < x.length && x[i] === v) {
      i++;
      cx++;
    }
    while (j < y.length && y[j] === v) {
      j++;
      cy++;
    }
    const t = cx + cy;
    rankSumX += cx * (placed + (t + 1) / 2);
    ties += t * t * t - t;
    placed += t;
  }
  return { u: rankSumX - (x.length * (x.length + 1)) / 2, ties };
}

function sigmaOf(n1: number, n2: number, ties: number): number {
  const n = n1 + n2;
  return Math.sqrt(((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))));
}

/** Pairwise differences x_i − y_j of two ascending arrays, by rank, without forming all of them. */
class PairwiseDifferences {
  readonly count: number;
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  constructor(x: Float64Array, y: Float64Array) {
    this.x = x;
    this.y = y;
    this.count = x.length * y.length;
  }

  /** How many differences are ≤ v. */
  atMost(v: number): number {
    const { x, y } = this;
    let j = 0;
    let n = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      while (j < y.length && y[j]! < xi - v) j++;
      n += y.length - j;
    }
    return n;
  }

  /** The k-th smallest difference (1-based, clamped to 1..count). */
  kth(kIn: number): number {
    const { x, y } = this;
    const k = Math.min(this.count, Math.max(1, kIn));
    let lo = x[0]! - y[y.length - 1]!;
    let hi = x[x.length - 1]! - y[0]!;
    let below = this.atMost(lo);
    if (below >= k) return lo;
    let upTo = this.count;
    // Bisect on the value until few candidates remain between lo and hi, then sort those.
    let previous = -1;
    for (let i = 0; i < 200; i++) {
      const candidates = upTo - below;
      if (candidates <= x.length + y.length + 64) return this.select(lo, hi, candidates, k - below);
      // Tied differences (bucketed latencies, rates of 0) stop the count from shrinking: check for a single value left.
      if (candidates === previous && this.smallestAbove(lo) === this.largestAtMost(hi)) return this.largestAtMost(hi);
      previous = candidates;
      const mid = lo + (hi - lo) / 2;
      if (!(mid > lo && mid < hi)) break;
      const n = this.atMost(mid);
      if (n >= k) {
        hi = mid;
        upTo = n;
      } else {
        lo = mid;
        below = n;
      }
    }
    return this.largestAtMost(hi);
  }

  /** The r-th smallest (1-based) of the `count` differences in (lo, hi]. */
  private select(lo: number, hi: number, count: number, r: number): number {
    const { x, y } = this;
    const candidates = new Float64Array(count);
    let m = 0;
    let jHi = 0;
    let jLo = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      while (jHi < y.length && y[jHi]! < xi - hi) jHi++;
      while (jLo < y.length && y[jLo]! < xi - lo) jLo++;
      for (let j = jHi; j < jLo; j++) candidates[m++] = xi - y[j]!;
    }
    candidates.sort();
    return candidates[r - 1] ?? this.largestAtMost(hi);
  }

  private largestAtMost(v: number): number {
    const { x, y } = this;
    let best = -Infinity;
    let j = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      while (j < y.length && y[j]! < xi - v) j++;
      if (j < y.length) best = Math.max(best, xi - y[j]!);
    }
    return best;
  }

  private smallestAbove(v: number): number {
    const { x, y } = this;
    let best = Infinity;
    let j = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      while (j < y.length && y[j]! < xi - v) j++;
      if (j > 0) best = Math.min(best, xi - y[j - 1]!);
    }
    return best;
  }
}
/**
 * The smallest count c of positive differences (shift d below the truth) for which R's
 * `wdiff(d, zq)` is positive; the root is then the c-th largest difference.
 */
function smallestPositiveCount(pairs: number, sigma: number, zq: number, correct: boolean): number {
  const g = (c: number) => {
    const dz = c - pairs / 2;
    return (dz - (correct ? Math.sign(dz) * 0.5 : 0)) / sigma - zq;
  };
  let lo = 0;
  let hi = pairs + 1; // pairs + 1 stands for "none"
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (g(mid) > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function mannWhitney(
  canary: readonly number[],
  baseline: readonly number[],
  confLevel = 0.98,
): MannWhitneyResult {
  const n1 = canary.length;
  const n2 = baseline.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitney: both samples need at least one value');
  if ([...canary, ...baseline].some((v) => !Number.isFinite(v)))
    throw new RangeError('mannWhitney: values must be finite numbers');
  if (!(confLevel > 0 && confLevel < 1))
    throw new RangeError(`mannWhitney: confLevel must be in (0, 1), got ${confLevel}`);

  const x = Float64Array.from(canary).sort();
  const y = Float64Array.from(baseline).sort();
  const { u, ties } = rankSum(x, y);
  const pairs = n1 * n2;
  const sigma = sigmaOf(n1, n2, ties);
  const dz = u - pairs / 2;
  const z = sigma > 0 ? (dz - Math.sign(dz) * 0.5) / sigma : 0;
  const pValue = Math.min(1, 2 * Math.min(normalCdf(z), normalCdf(-z)));

  const diffs = new PairwiseDifferences(x, y);
  const estimate = pairs % 2 === 1 ? diffs.kth((pairs + 1) / 2) : (diffs.kth(pairs / 2) + diffs.kth(pairs / 2 + 1)) / 2;
  // For a generic shift d, no canary − d ties a baseline value: only within-sample ties count.
  const sigmaCi = sigmaOf(n1, n2, tieTerm(x) + tieTerm(y));
  let interval: Interval;
  if (sigmaCi > 0) {
    const zq = normalQuantile(1 - (1 - confLevel) / 2);
    const rootAt = (q: number) => diffs.kth(pairs - smallestPositiveCount(pairs, sigmaCi, q, true) + 1);
    interval = [rootAt(zq), rootAt(-zq)];
  } else {
    interval = [estimate, estimate];
  }
  return { u, z, pValue, estimate, interval, confLevel, canaryN: n1, baselineN: n2 };
}
