import { emptyReleaseMetrics, foldReleaseMetrics, renderPrometheus } from '../core/analytics/release-metrics.ts';
import type { ServiceEvent } from '../core/events.ts';
import type { EventBus } from '../engine/event-bus.ts';
import type { Store } from '../store/types.ts';

const PAGE = 5000;

/**
 * The counters behind `GET /metrics`: the whole log folded once when the server starts, then every
 * committed event as the bus delivers it (events committed during the first fold are taken once, by seq).
 */
export class MetricsCollector {
  readonly #metrics = emptyReleaseMetrics();
  #seq = 0;
  readonly #unsubscribe: () => void;

  private constructor(bus: EventBus, early: ServiceEvent[]) {
    this.#unsubscribe = bus.subscribe((e) => {
      if (this.#seq < 0) early.push(e);
      else this.#take(e);
    });
  }

  static async open(store: Store, bus: EventBus): Promise<MetricsCollector> {
    const early: ServiceEvent[] = [];
    const c = new MetricsCollector(bus, early);
    c.#seq = -1;
    let last = 0;
    for (;;) {
      const page = await store.events({ afterSeq: last, limit: PAGE });
      for (const e of page) foldReleaseMetrics(c.#metrics, e);
      if (page.length > 0) last = page.at(-1)!.seq;
      if (page.length < PAGE) break;
    }
    c.#seq = last;
    for (const e of early) c.#take(e);
    return c;
  }

  #take(e: ServiceEvent): void {
    if (e.seq <= this.#seq) return;
    this.#seq = e.seq;
    foldReleaseMetrics(this.#metrics, e);
  }

  render(phases: readonly { service: string; phase: string }[]): string {
    return renderPrometheus(this.#metrics, phases);
  }

  close(): void {
    this.#unsubscribe();
  }
}
