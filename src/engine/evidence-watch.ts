/**
 * Judging when the evidence arrives: while the canary of an active release takes traffic and the
 * metrics provider can `watch`, one watch waits for the canary's next bad answers, and each time it
 * resolves the controller observes at once instead of at the next interval. Wake-ups are at least
 * `minGapMs` apart (the provider remembers what it has reported, so nothing is lost meanwhile); a
 * provider that fails is asked again after a pause, never in a tight loop. It runs beside the
 * controller's loop and never holds it up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { canaryTakesTraffic, isActive, type ServiceState } from '../core/release/state.ts';
import type { MetricsProvider } from '../drivers/metrics/types.ts';

/** At most one wake-up observation per this long. */
export const MIN_WAKE_GAP_MS = 50;
/** After a watch failed (it should not: providers retry themselves), wait this long. */
const RETRY_MS = 1_000;

/** The key to watch: the canary's, whenever the core would analyse it (as `analysisDue`, without the interval). */
export function watchedKey(state: ServiceState): string | null {
  const r = state.release;
  return isActive(r) && r.from !== null && !r.completing && canaryTakesTraffic(state) ? r.to.key : null;
}

export class EvidenceWatch {
  readonly #wake: () => void;
  readonly #minGapMs: number;
  #current: { key: string; metrics: MetricsProvider; abort: AbortController } | null = null;

  constructor(wake: () => void, minGapMs = MIN_WAKE_GAP_MS) {
    this.#wake = wake;
    this.#minGapMs = minGapMs;
  }

  /** The key watched now, if any. */
  get key(): string | null {
    return this.#current?.key ?? null;
  }

  /** Watch `key` through `metrics` (null: nothing). Keeps the running watch when both are the same, else replaces it. */
  sync(metrics: MetricsProvider, key: string | null): void {
    const want = metrics.watch === undefined ? null : key;
    const c = this.#current;
    if (c !== null && c.key === want && c.metrics === metrics) return;
    this.stop();
    if (want === null) return;
    const abort = new AbortController();
    this.#current = { key: want, metrics, abort };
    void this.#run(metrics, want, abort.signal);
  }

  /** Abort the watch, if one runs. */
  stop(): void {
    this.#current?.abort.abort();
    this.#current = null;
  }

  /** Never rejects: ends when `signal` aborts. */
  async #run(metrics: MetricsProvider, key: string, signal: AbortSignal): Promise<void> {
    const rest = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);
    while (!signal.aborted) {
      try {
        await metrics.watch!(key, signal);
      } catch {
        if (!signal.aborted) await rest(RETRY_MS);
        continue;
      }
      if (signal.aborted) return;
      try {
        this.#wake();
      } catch {
        // The controller reports its own failures; a wake-up never ends the watch.
      }
      await rest(this.#minGapMs);
    }
  }
}
