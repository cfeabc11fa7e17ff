/**
 * Drill events in the hash-chained log, under a log name no service can have (service names are
 * DNS labels), like the server's own `_server`. The drill records are folded from it.
 */
import { DRILL_LOG, type DrillEvent, isScheduleEvent } from '../core/drills/events.ts';
import { drillRecords, type DrillRecord, type StoredDrillEvent } from '../core/drills/record.ts';
import { emptyState } from '../core/release/state.ts';
import type { EventBus } from '../engine/event-bus.ts';
import type { Store } from '../store/types.ts';

export { DRILL_LOG };

export class DrillLog {
  readonly #store: Store;
  readonly #bus: EventBus;
  readonly #now: () => number;
  /** Appends are serialised, so a run's events keep their order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: Store, bus: EventBus, now: () => number = Date.now) {
    this.#store = store;
    this.#bus = bus;
    this.#now = now;
  }

  record(event: DrillEvent, actor: string): Promise<void> {
    const at = this.#now();
    const done = this.#queue.then(async () => {
      const stored = await this.#store.commit(DRILL_LOG, [{ ...event, at, actor }], emptyState(DRILL_LOG));
      this.#bus.publish(stored);
    });
    this.#queue = done.catch(() => undefined);
    return done;
  }

  async records(): Promise<DrillRecord[]> {
    const events = await this.#store.events({ service: DRILL_LOG });
    return drillRecords(
      events.filter(
        (e): e is StoredDrillEvent =>
          e.type.startsWith('drill.') && e.type !== 'drill.rehearsed' && !isScheduleEvent(e),
      ),
    );
  }
}
