/**
 * Counts since the canary started, for the sequential judge. Each evaluation adds the increase of
 * the data plane's counters since the previous one; the first adds the window's figures (the
 * canary's counters may hold an earlier release of the same revision, so they are not taken as
 * they are). A counter reset (the proxy restarted) restarts the difference, losing nothing seen.
 */
import { merge } from './histogram.ts';
import type { Observation } from './judge.ts';
import type { HistogramCounts, Measurement, RequestTotals } from './types.ts';

export interface Counts {
  requests: number;
  errors: number;
  latency: HistogramCounts;
}

export interface Accumulation {
  /** The counters at the previous evaluation (null when the provider has none). */
  last: RequestTotals | null;
  sum: Counts;
}

/** What one evaluation added: the interval's own figures (Mann–Whitney's one point per interval). */
export function increaseOf(prev: Accumulation | undefined, next: Accumulation): Counts {
  const before = prev?.sum ?? empty();
  return { requests: next.sum.requests - before.requests, errors: next.sum.errors - before.errors, latency: minus(next.sum.latency, before.latency) };
}

export interface Accumulated {
  canary: Accumulation;
  baseline: Accumulation;
}

const empty = (): Counts => ({ requests: 0, errors: 0, latency: {} });

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
  return { requests: sum.requests + more.requests, errors: sum.errors + more.errors, latency };
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
    return { last: totals, sum: add(sum, { requests: m.stats.requests, errors: m.stats.errors, latency: m.stats.latency }) };
  }
  const restarted = last.since !== totals.since || totals.requests < last.requests;
  const increase: Counts = restarted
    ? { requests: totals.requests, errors: totals.errors, latency: totals.latency }
    : { requests: totals.requests - last.requests, errors: totals.errors - last.errors, latency: minus(totals.latency, last.latency) };
  return { last: totals, sum: add(sum, increase) };
}

/** The accumulation after this observation, or null when the provider keeps no counters. */
export function accumulate(prev: Accumulated | undefined, obs: Observation): Accumulated | null {
  const canary = step(prev?.canary, obs.canary);
  const baseline = step(prev?.baseline, obs.baseline);
  return canary === null || baseline === null ? null : { canary, baseline };
}
