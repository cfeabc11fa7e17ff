/** Median, min and max of one figure over the runs that produced it. */
export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  /** Runs that produced the figure (a run that did not roll back has no revert time). */
  n: number;
}

export function spread(values: (number | null)[]): Spread {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: null, min: null, max: null, n };
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[n - 1]!, n };
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
