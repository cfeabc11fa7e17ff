/**
 * Time-uniform confidence sequences for a Bernoulli rate, from the beta-binomial mixture martingale
 * (Robbins 1970, "Statistical methods related to the law of the iterated logarithm"; in the form of
 * Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence
 * sequences", Ann. Statist. 49(2) — the conjugate beta-binomial mixture boundary).
 *
 * For n Bernoulli(p) draws with s successes, and a Beta(a, b) mixing distribution,
 *   M_n(p0) = B(a + s, b + n − s) / B(a, b) / (p0^s (1 − p0)^(n − s))
 * is a nonnegative martingale with mean 1 when p = p0. By Ville's inequality,
 * P(∃ n: M_n(p) ≥ 1/α) ≤ α, so {p0 : M_n(p0) < 1/α} covers p at every n at once: looking after
 * every request, or every second, does not inflate the error. It depends on (n, s) only, so
 * cumulative counts are enough and the order in which requests arrived does not matter.
 */
import { logBeta } from './special.ts';

/** Jeffreys' Beta(½, ½): puts enough mass near 0 for sparse error rates (0.1%) to be tracked closely. */
const PRIOR_A = 0.5;
const PRIOR_B = 0.5;
const LOG_PRIOR = logBeta(PRIOR_A, PRIOR_B);

/** ln M_n(p0): the log e-value against "the rate is p0" after s successes in n draws. */
export function logMixtureEValue(successes: number, n: number, p0: number): number {
  const failures = n - successes;
  if (p0 <= 0) return successes > 0 ? Infinity : logBeta(PRIOR_A, PRIOR_B + n) - LOG_PRIOR;
  if (p0 >= 1) return failures > 0 ? Infinity : logBeta(PRIOR_A + n, PRIOR_B) - LOG_PRIOR;
  return (
    logBeta(PRIOR_A + successes, PRIOR_B + failures) - LOG_PRIOR - successes * Math.log(p0) - failures * Math.log1p(-p0)
  );
}

/** Whether p0 lies outside the (1 − α) confidence sequence at this n. */
export function rejects(successes: number, n: number, p0: number, alpha: number): boolean {
  return logMixtureEValue(successes, n, p0) >= Math.log(1 / alpha);
}

/**
 * Largest p0 the sequence still holds plausible: an upper confidence bound on the rate, valid at
 * every n. `precision` is relative (1e-7 for verdicts; planning estimates take 1e-3).
 */
export function upperBound(successes: number, n: number, alpha: number, precision = 1e-7): number {
  if (n === 0) return 1;
  let lo = successes / n;
  let hi = 1;
  if (!rejects(successes, n, hi, alpha)) return 1;
  // The beta term depends on the counts only: computed once, not at every step of the search (the
  // same arithmetic as logMixtureEValue, in the same order, so the bound is bit for bit the same).
  const failures = n - successes;
  const beta = logBeta(PRIOR_A + successes, PRIOR_B + failures) - LOG_PRIOR;
  const threshold = Math.log(1 / alpha);
  const rejected = (p0: number) =>
    (p0 <= 0 || p0 >= 1
      ? logMixtureEValue(successes, n, p0)
      : beta - successes * Math.log(p0) - failures * Math.log1p(-p0)) >= threshold;
  // M_n(p0) grows with p0 above the estimate: bisect to the relative precision asked for.
  for (let i = 0; i < 80 && hi - lo > precision * hi; i++) {
    const mid = (lo + hi) / 2;
    if (rejected(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Smallest p0 the sequence still holds plausible: a lower confidence bound on the rate. */
export function lowerBound(successes: number, n: number, alpha: number, precision = 1e-7): number {
  if (n === 0) return 0;
  return 1 - upperBound(n - successes, n, alpha, precision);
}

/**
 * The most successes out of n that the sequence would reject as too few for a rate of at least r
 * (−1 if none): whenever the true rate is ≥ r, more than this many successes have been seen, at
 * every n at once, with probability ≥ 1 − α. Used to bound a quantile by an order statistic.
 */
export function mostRejectedBelow(n: number, r: number, alpha: number): number {
  const top = Math.ceil(r * n) - 1;
  if (top < 0 || !rejects(0, n, r, alpha)) return -1;
  // Fewer successes is stronger evidence against r: the rejected counts are 0..k for one k.
  let lo = 0;
  let hi = top;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (mid / n < r && rejects(mid, n, r, alpha)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
