/**
 * Counters of a multi-worker proxy, summed over its workers: the metrics windows (GET /metrics)
 * and the bad-answer totals GET /metrics/watch waits on. A worker that exits leaves its last
 * totals behind, so the proxy's running totals never go down when a worker is replaced.
 */
import type { BackendWindow } from '../core/analysis/backend-metrics.ts';
import { merge } from '../core/analysis/histogram.ts';
import type { StatusCounts } from '../core/types.ts';
import type { BadCount } from './bad-answer-watch.ts';
import type { FlagCounts } from './flag-plane.ts';

function addStatuses(into: StatusCounts, from: StatusCounts): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

function emptyWindow(): BackendWindow {
  return {
    requests: 0,
    errors: 0,
    latency: {},
    statuses: {},
    inflight: 0,
    total: { requests: 0, errors: 0, latency: {}, statuses: {} },
  };
}

/** Adds running totals `from` into `into`. */
export function addTotal(into: BackendWindow['total'], from: BackendWindow['total']): void {
  into.requests += from.requests;
  into.errors += from.errors;
  merge(into.latency, from.latency);
  addStatuses(into.statuses, from.statuses);
}

/** Adds `from` into `into` (every count, both the window's and the totals). */
export function addWindow(into: BackendWindow, from: BackendWindow): BackendWindow {
  into.requests += from.requests;
  into.errors += from.errors;
  merge(into.latency, from.latency);
  addStatuses(into.statuses, from.statuses);
  into.inflight += from.inflight;
  addTotal(into.total, from.total);
  return into;
}

/** The workers' windows summed per key; `retired` holds the totals of workers that exited. */
export function sumWindows(
  perWorker: readonly Record<string, BackendWindow>[],
  retired: ReadonlyMap<string, BackendWindow['total']>,
): Record<string, BackendWindow> {
  const out: Record<string, BackendWindow> = {};
  for (const backends of perWorker)
    for (const [key, w] of Object.entries(backends)) addWindow((out[key] ??= emptyWindow()), w);
  for (const [key, total] of retired) {
    const w = out[key];
    if (w === undefined) continue; // a key no worker reports any more is out of the window and the table
    addTotal(w.total, total);
  }
  return out;
}

/** flag → variant → counts, summed over the workers. */
export function sumFlagCounts(perWorker: readonly FlagCounts[]): FlagCounts {
  const out: FlagCounts = {};
  for (const flags of perWorker)
    for (const [flag, variants] of Object.entries(flags))
      for (const [variant, c] of Object.entries(variants)) {
        const into = ((out[flag] ??= {})[variant] ??= { requests: 0, errors: 0, latency: {} });
        into.requests += c.requests;
        into.errors += c.errors;
        merge(into.latency, c.latency);
      }
  return out;
}

/** One key's bad answers summed over the workers, with the wake-up the long poll waits on. */
export class MergedBadCount implements BadCount {
  private readonly byWorker = new Map<number, number>();
  private retired = 0;
  private waiters: Set<() => void> | undefined;

  get totalBad(): number {
    let n = this.retired;
    for (const v of this.byWorker.values()) n += v;
    return n;
  }

  /** A worker's running total for this key. */
  report(worker: number, total: number): void {
    if (total <= (this.byWorker.get(worker) ?? 0)) return;
    this.byWorker.set(worker, total);
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters !== undefined) for (const wake of waiters) wake();
  }

  /** The worker exited: its count stays in the total. */
  retire(worker: number): void {
    this.retired += this.byWorker.get(worker) ?? 0;
    this.byWorker.delete(worker);
  }

  onNextBad(wake: () => void): () => void {
    (this.waiters ??= new Set()).add(wake);
    return () => void this.waiters?.delete(wake);
  }
}
