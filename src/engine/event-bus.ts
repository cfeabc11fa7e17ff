import type { ServiceEvent } from '../core/events.ts';

/**
 * Where a published event was committed: by this process (`here`), or by another replica and read
 * from the shared log (`replica`, replica-tail.ts). What acts on an event once (notifications,
 * retrospectives) acts on those committed here: every event is committed by exactly one replica.
 */
export type EventOrigin = 'here' | 'replica';

type Listener = (event: ServiceEvent, origin: EventOrigin) => void;

/** Committed events, fanned out to live subscribers (the API's event stream, tests). */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(events: readonly ServiceEvent[], origin: EventOrigin = 'here'): void {
    for (const e of events) {
      for (const l of this.#listeners) {
        try {
          l(e, origin);
        } catch {
          // A subscriber's failure is its own; it never stops the controller.
        }
      }
    }
  }
}
