/**
 * Per-backend request figures: a ring of 250 ms slots covering the last 15 minutes, plus running
 * totals and the in-flight count. Recording touches one slot (a few array writes and one
 * histogram bump), so it is cheap enough for every request; window queries, which only the admin
 * API makes, sum the slots. Times are passed in so tests can drive the clock.
 */
import { merge, record } from '../core/histogram.ts';
import type { HistogramCounts } from '../core/types.ts';

export const SLOT_MS = 250;
export const RETENTION_MS = 15 * 60_000;
const SLOTS = RETENTION_MS / SLOT_MS;

export interface BackendWindow {
  requests: number;
  errors: number;
  latency: HistogramCounts;
  inflight: number;
  /** Counters since the proxy started (the sequential judge takes their increments). */
  total: { requests: number; errors: number; latency: HistogramCounts };
}

export class BackendMetrics {
  /** Which 250 ms slot (epoch ms / SLOT_MS) each ring position holds; -1 when never used. */
  private readonly slotOf = new Float64Array(SLOTS).fill(-1);
  private readonly requests = new Uint32Array(SLOTS);
  private readonly errors = new Uint32Array(SLOTS);
  private readonly latency: (HistogramCounts | undefined)[] = new Array(SLOTS);
  totalRequests = 0;
  totalErrors = 0;
  readonly totalLatency: HistogramCounts = {};
  inflight = 0;
  lastRecordAt = -Infinity;

  record(now: number, latencyMs: number, error: boolean): void {
    const slot = Math.floor(now / SLOT_MS);
    const i = slot % SLOTS;
    let counts = this.latency[i];
    if (this.slotOf[i] !== slot || counts === undefined) {
      this.slotOf[i] = slot;
      this.requests[i] = 0;
      this.errors[i] = 0;
      counts = {};
      this.latency[i] = counts;
    }
    this.requests[i]!++;
    this.totalRequests++;
    if (error) {
      this.errors[i]!++;
      this.totalErrors++;
    }
    record(counts, latencyMs);
    record(this.totalLatency, latencyMs);
    this.lastRecordAt = now;
  }

  /** Figures for the last `windowMs` (whole slots, the current partial one included). */
  window(now: number, windowMs: number): BackendWindow {
    const slots = Math.min(SLOTS, Math.max(1, Math.ceil(windowMs / SLOT_MS)));
    const current = Math.floor(now / SLOT_MS);
    const out: BackendWindow = {
      requests: 0,
      errors: 0,
      latency: {},
      inflight: this.inflight,
      total: { requests: this.totalRequests, errors: this.totalErrors, latency: { ...this.totalLatency } },
    };
    for (let slot = current - slots + 1; slot <= current; slot++) {
      const i = slot % SLOTS;
      if (this.slotOf[i] !== slot) continue;
      out.requests += this.requests[i]!;
      out.errors += this.errors[i]!;
      merge(out.latency, this.latency[i] ?? {});
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
   * been idle for the whole retention are forgotten here, so old releases do not pile up.
   */
  snapshot(now: number, windowMs: number, tableKeys: readonly string[]): Record<string, BackendWindow> {
    const out: Record<string, BackendWindow> = {};
    for (const [key, m] of this.byKey) {
      const inTable = tableKeys.includes(key);
      if (!inTable && m.inflight === 0 && now - m.lastRecordAt > RETENTION_MS) {
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
