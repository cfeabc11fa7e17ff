import type { Bucketing, Window } from './types.ts';

export const DAY_MS = 86_400_000;

/** The UTC day number of a time (days since 1970-01-01). */
export const utcDay = (ms: number): number => Math.floor(ms / DAY_MS);

/** The start of the bucket holding `ms`: UTC midnight, Monday 00:00 UTC, or the first of the month. */
export function bucketStart(ms: number, bucketing: Bucketing): number {
  const day = utcDay(ms) * DAY_MS;
  if (bucketing === 'day') return day;
  if (bucketing === 'week') return day - ((utcDay(ms) + 3) % 7) * DAY_MS;
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextBucket(start: number, bucketing: Bucketing): number {
  if (bucketing === 'day') return start + DAY_MS;
  if (bucketing === 'week') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The window cut at bucket boundaries; the first and last buckets are clipped to the window. */
export function bucketsOf(window: Window, bucketing: Bucketing): Window[] {
  const out: Window[] = [];
  for (let start = bucketStart(window.since, bucketing); start < window.until; start = nextBucket(start, bucketing)) {
    out.push({ since: Math.max(start, window.since), until: Math.min(nextBucket(start, bucketing), window.until) });
  }
  return out;
}
