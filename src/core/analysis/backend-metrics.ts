/**
 * Per-backend request figures: a ring of 250 ms slots covering the last 15 minutes, plus running
 * totals and the in-flight count. Recording touches one slot (a few array writes, one histogram
 * bump and one status count), so it is cheap enough for every request; window queries (the built-in
 * proxy's admin API, the access-log metrics provider) sum the slots. Times are passed in so tests
 * can drive the clock. Shared by the built-in proxy and the access-log provider, hence in core.
 */
import { merge, record } from './histogram.ts';
import type { HistogramCounts, StatusCounts } from '../types.ts';

export const SLOT_MS = 250;
export const RETENTION_MS = 15 * 60_000;
const SLOTS = RETENTION_MS / SLOT_MS;

/**
 * How the backend answered one request: its status; `connect` when it gave no (whole) answer
 * (refused, reset, timed out, cut mid-body); null when the client left before any answer.
 */
export type Answer = number | 'connect' | null;

/** 5xx and no answer: the backend's errors. */
const isError = (a: Answer): boolean => a === 'connect' || (a !== null && a >= 500);
/** Status ≥ 400 and no answer: what GET /metrics/watch wakes on. */
const isBad = (a: Answer): boolean => a === 'connect' || (a !== null && a >= 400);

export interface BackendWindow {
  requests: number;
  errors: number;
  latency: HistogramCounts;
  /** The same requests by status, and `connect` (a request the client left unanswered has none). */
  statuses: StatusCounts;
  inflight: number;
  /** Counters since the proxy started (the sequential judge takes their increments). */
  total: { requests: number; errors: number; latency: HistogramCounts; statuses: StatusCounts };
}

type StatusTally = Map<number | 'connect', number>;

function tally(t: StatusTally, a: number | 'connect'): void {
  t.set(a, (t.get(a) ?? 0) + 1);
}

function addTally(into: StatusCounts, t: StatusTally): void {
  for (const [a, n] of t) into[a] = (into[a] ?? 0) + n;
}

export class BackendMetrics {
  /** Which 250 ms slot (epoch ms / SLOT_MS) each ring position holds; -1 when never used. */
  private readonly slotOf = new Float64Array(SLOTS).fill(-1);
  private readonly requests = new Uint32Array(SLOTS);
  private readonly errors = new Uint32Array(SLOTS);
  private readonly latency: (HistogramCounts | undefined)[] = new Array(SLOTS);
  private readonly statuses: (StatusTally | undefined)[] = new Array(SLOTS);
  /** One-shot listeners for the next bad answer (GET /metrics/watch). */
  private waiters: Set<() => void> | undefined;
  totalRequests = 0;
  totalErrors = 0;
  /** Answers with status ≥ 400 or none, since the proxy started. */
  totalBad = 0;
  readonly totalLatency: HistogramCounts = {};
  private readonly totalStatuses: StatusTally = new Map();
  inflight = 0;
  lastRecordAt = -Infinity;

  record(now: number, latencyMs: number, answer: Answer): void {
    const slot = Math.floor(now / SLOT_MS);
    const i = slot % SLOTS;
    let counts = this.latency[i];
    let statuses = this.statuses[i];
    if (this.slotOf[i] !== slot || counts === undefined || statuses === undefined) {
      this.slotOf[i] = slot;
      this.requests[i] = 0;
      this.errors[i] = 0;
      counts = {};
      statuses = new Map();
      this.latency[i] = counts;
      this.statuses[i] = statuses;
    }
    this.requests[i]!++;
    this.totalRequests++;
    if (isError(answer)) {
      this.errors[i]!++;
      this.totalErrors++;
    }
    if (answer !== null) {
      tally(statuses, answer);
      tally(this.totalStatuses, answer);
    }
    record(counts, latencyMs);
    record(this.totalLatency, latencyMs);
    this.lastRecordAt = now;
    if (isBad(answer)) {
      this.totalBad++;
      const waiters = this.waiters;
      if (waiters !== undefined) {
        this.waiters = undefined;
        for (const wake of waiters) wake();
      }
    }
  }

  /** Calls `wake` once, at the next bad answer; returns a function that cancels that. */
  onNextBad(wake: () => void): () => void {
    (this.waiters ??= new Set()).add(wake);
    return () => void this.waiters?.delete(wake);
  }

  /** Someone waits for this backend's next bad answer (its figures must not be forgotten meanwhile). */
  get watched(): boolean {
    return this.waiters !== undefined && this.waiters.size > 0;
  }

  /** Figures for the last `windowMs` (whole slots, the current partial one included). */
  window(now: number, windowMs: number): BackendWindow {
    const slots = Math.min(SLOTS, Math.max(1, Math.ceil(windowMs / SLOT_MS)));
    const current = Math.floor(now / SLOT_MS);
    const totalStatuses: StatusCounts = {};
    addTally(totalStatuses, this.totalStatuses);
    const out: BackendWindow = {
      requests: 0,
      errors: 0,
      latency: {},
      statuses: {},
      inflight: this.inflight,
      total: {
        requests: this.totalRequests,
        errors: this.totalErrors,
        latency: { ...this.totalLatency },
        statuses: totalStatuses,
      },
    };
    for (let slot = current - slots + 1; slot <= current; slot++) {
      const i = slot % SLOTS;
      if (this.slotOf[i] !== slot) continue;
      out.requests += this.requests[i]!;
      out.errors += this.errors[i]!;
      merge(out.latency, this.latency[i] ?? {});
      const statuses = this.statuses[i];
      if (statuses !== undefined) addTally(out.statuses, statuses);
    }
    return out;
  }
}

/** The metrics of every backend key the proxy has served, by key. */
export class MetricsBook {
  private readonly byKey = new Map<string, BackendMetrics>();

  of(key: string): BackendMetrics {
    let m = this.byKey.get(key);
    if (m === undefined) {
      m = new BackendMetrics();
      this.byKey.set(key, m);
    }
    return m;
  }

  /**
   * Keys with traffic in the window or in the current table. Keys that left the table and have
   * been idle for the whole retention (and nobody watches) are forgotten here, so old releases do
   * not pile up.
   */
  snapshot(now: number, windowMs: number, tableKeys: readonly string[]): Record<string, BackendWindow> {
    const out: Record<string, BackendWindow> = {};
    for (const [key, m] of this.byKey) {
      const inTable = tableKeys.includes(key);
      if (!inTable && m.inflight === 0 && !m.watched && now - m.lastRecordAt > RETENTION_MS) {
        this.byKey.delete(key);
        continue;
      }
      const w = m.window(now, windowMs);
      if (inTable || w.requests > 0 || w.inflight > 0) out[key] = w;
    }
    for (const key of tableKeys) out[key] ??= this.of(key).window(now, windowMs);
    return out;
  }
}
