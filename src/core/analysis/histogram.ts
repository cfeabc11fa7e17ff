import type { HistogramCounts } from '../types.ts';

/**
 * Log-bucketed latency histogram shared by the data plane (which records) and the judges (which
 * read quantiles). Bucket i holds values in (LOW·G^(i−1), LOW·G^i]; bucket 0 holds everything up
 * to LOW. With G = 1.05 a quantile read back is within 2.5% of the true value. Sparse counts keep
 * the JSON small: a typical window touches a few dozen buckets.
 */
const LOW_MS = 0.05;
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
/** Up to ~LOW·G^400 ≈ 15 minutes; anything slower lands in the last bucket. */
export const BUCKETS = 400;

export function bucketOf(ms: number): number {
  if (!(ms > LOW_MS)) return 0;
  const i = Math.ceil(Math.log(ms / LOW_MS) / LOG_GROWTH);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** The representative value of a bucket: the geometric middle of its bounds. */
export function bucketValue(i: number): number {
  if (i <= 0) return LOW_MS;
  return LOW_MS * GROWTH ** (i - 0.5);
}

export function record(counts: HistogramCounts, ms: number, n = 1): void {
  const b = bucketOf(ms);
  counts[b] = (counts[b] ?? 0) + n;
}

export function merge(into: HistogramCounts, from: HistogramCounts): HistogramCounts {
  for (const [k, v] of Object.entries(from)) {
    const i = Number(k);
    into[i] = (into[i] ?? 0) + v;
  }
  return into;
}

export function total(counts: HistogramCounts): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v;
  return n;
}

/** The q-quantile (0..1) in ms, or null for an empty histogram. */
export function quantile(counts: HistogramCounts, q: number): number | null {
  const n = total(counts);
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  const keys = Object.keys(counts)
    .map(Number)
    .sort((a, b) => a - b);
  for (const k of keys) {
    seen += counts[k] ?? 0;
    if (seen >= rank) return bucketValue(k);
  }
  return bucketValue(keys[keys.length - 1] ?? 0);
}

export function mean(counts: HistogramCounts): number | null {
  const n = total(counts);
  if (n === 0) return null;
  let sum = 0;
  for (const [k, v] of Object.entries(counts)) sum += bucketValue(Number(k)) * v;
  return sum / n;
}
