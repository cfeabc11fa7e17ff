/**
 * Counts since the canary started, for the sequential judge. Each evaluation adds the increase of
 * the data plane's counters since the previous one; the first adds the window's figures (the
 * canary's counters may hold an earlier release of the same revision, so they are not taken as
 * they are). A counter reset (the proxy restarted) restarts the difference, losing nothing seen.
 */
import { merge } from './histogram.ts';
import type { Accumulated, Accumulation, Counts, Observation } from './observation.ts';
import type { HistogramCounts, Measurement, StatusCounts } from '../types.ts';

export type { Accumulated, Accumulation, Counts } from './observation.ts';

/** What one evaluation added: the interval's own figures (Mann–Whitney's one point per interval). */
export function increaseOf(prev: Accumulation | undefined, next: Accumulation): Counts {
  return difference(next.sum, prev?.sum ?? empty());
}

/** `later` − `earlier`, for counts that only grow (the counts at a traffic level = now − when it began). */
export function difference(later: Counts, earlier: Counts): Counts {
  const out: Counts = {
    requests: later.requests - earlier.requests,
    errors: later.errors - earlier.errors,
    latency: minus(later.latency, earlier.latency),
  };
  if (later.statuses !== undefined && earlier.statuses !== undefined)
    out.statuses = minusStatuses(later.statuses, earlier.statuses);
  return out;
}

export const empty = (): Counts => ({ requests: 0, errors: 0, latency: {}, statuses: {} });

function minusStatuses(a: StatusCounts, b: StatusCounts): StatusCounts {
  const out: StatusCounts = {};
  for (const [k, v] of Object.entries(a)) {
    const d = v - (b[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

function plusStatuses(a: StatusCounts | undefined, b: StatusCounts | undefined): StatusCounts | undefined {
  if (a === undefined || b === undefined) return undefined;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function minus(a: HistogramCounts, b: HistogramCounts): HistogramCounts {
  const out: HistogramCounts = {};
  for (const [k, v] of Object.entries(a)) {
    const d = v - (b[Number(k)] ?? 0);
    if (d > 0) out[Number(k)] = d;
  }
  return out;
}

function add(sum: Counts, more: Counts): Counts {
  const latency = { ...sum.latency };
  merge(latency, more.latency);
  const out: Counts = { requests: sum.requests + more.requests, errors: sum.errors + more.errors, latency };
  const statuses = plusStatuses(sum.statuses, more.statuses);
  if (statuses !== undefined) out.statuses = statuses;
  return out;
}

function step(prev: Accumulation | undefined, m: Measurement): Accumulation | null {
  if (m.kind !== 'stats') return prev ?? { last: null, sum: empty() };
  const totals = m.totals ?? null;
  // No counters: the sequential judge cannot run on this provider.
  if (totals === null) return null;
  const sum = prev?.sum ?? empty();
  const last = prev?.last ?? null;
  if (last === null) {
    // The first figures of the release: the window's, and the counters from here on.
    return { last: totals, sum: add(sum, countsOf(m.stats)) };
  }
  const restarted = last.since !== totals.since || totals.requests < last.requests;
  const increase: Counts = restarted ? countsOf(totals) : difference(countsOf(totals), countsOf(last));
  return { last: totals, sum: add(sum, increase) };
}

function countsOf(c: { requests: number; errors: number; latency: HistogramCounts; statuses?: StatusCounts }): Counts {
  const out: Counts = { requests: c.requests, errors: c.errors, latency: c.latency };
  if (c.statuses !== undefined) out.statuses = c.statuses;
  return out;
}

/** The accumulation after this observation, or null when the provider keeps no counters. */
export function accumulate(prev: Accumulated | undefined, obs: Observation): Accumulated | null {
  const canary = step(prev?.canary, obs.canary);
  const baseline = step(prev?.baseline, obs.baseline);
  return canary === null || baseline === null ? null : { canary, baseline };
}
