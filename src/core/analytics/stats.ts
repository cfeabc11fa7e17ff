/** Order statistics of a sample, by the nearest-rank method (the value of a real observation, never interpolated). */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return quantileSorted(sorted, q);
}

/** As `quantile`, for values already sorted ascending. */
export function quantileSorted(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

/** The median: the middle value, or the mean of the two middle values of an even count. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return medianSorted([...values].sort((a, b) => a - b));
}

/** As `median`, for values already sorted ascending. */
export function medianSorted(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Seconds from milliseconds, kept to the millisecond. */
export const seconds = (ms: number | null): number | null => (ms === null ? null : Math.round(ms) / 1000);
