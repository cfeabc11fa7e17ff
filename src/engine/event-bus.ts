import type { ServiceEvent } from '../core/events.ts';

type Listener = (event: ServiceEvent) => void;

/** Committed events, fanned out to live subscribers (the API's event stream, tests). */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(events: readonly ServiceEvent[]): void {
    for (const e of events) {
      for (const l of this.#listeners) {
        try {
          l(e);
        } catch {
          // A subscriber's failure is its own; it never stops the controller.
        }
      }
    }
  }
}
