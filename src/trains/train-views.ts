/**
 * Every train as the log holds it, kept on every replica: read at start, and read again when
 * another replica's events of a train arrive (the log follower's `replica` events), so a status,
 * a list or a person's request on any replica sees the train whichever replica runs it. The
 * replica that runs a train folds its own events in as it records them.
 */
import type { Logger } from 'pino';
import type { TrainState } from '../core/trains/index.ts';
import type { Engine } from '../engine/engine.ts';
import type { EventOrigin } from '../engine/event-bus.ts';
import { TRAIN_LOG_PREFIX, type TrainLog } from './train-log.ts';

export class TrainViews {
  readonly trains = new Map<string, TrainState>();
  readonly #log: TrainLog;
  readonly #engine: Engine;
  readonly #logger: Logger;
  /** Trains to read again, and the read of each under way. */
  readonly #stale = new Set<string>();
  readonly #reads = new Map<string, Promise<void>>();
  readonly #unsubscribe: () => void;

  constructor(log: TrainLog, engine: Engine, logger: Logger) {
    this.#log = log;
    this.#engine = engine;
    this.#logger = logger;
    this.#unsubscribe = engine.bus.subscribe((e, origin) => this.#seen(e.service, origin));
  }

  /** Every train in the log. */
  async load(): Promise<void> {
    for (const name of await this.#log.names()) await this.read(name);
  }

  /** Read one train from the log again; one read at a time per train, so an older read never lands after a newer one. */
  read(name: string): Promise<void> {
    const read = async () => {
      const t = await this.#log.state(name);
      if (t !== null) this.trains.set(name, t);
    };
    const next = (this.#reads.get(name) ?? Promise.resolve()).then(read, read);
    this.#reads.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Another replica's train events: that train is read again (unless this replica runs it, and so wrote them). */
  #seen(service: string, origin: EventOrigin): void {
    if (origin !== 'replica' || !service.startsWith(TRAIN_LOG_PREFIX) || this.#stale.has(service)) return;
    this.#stale.add(service);
    setImmediate(() => {
      this.#stale.delete(service);
      if (this.#engine.actingFence(service) === null)
        void this.read(service.slice(TRAIN_LOG_PREFIX.length)).catch((err: unknown) =>
          this.#logger.warn({ err, train: service }, 'cannot read a train from the log; read again at its next event'),
        );
    });
  }

  close(): void {
    this.#unsubscribe();
  }
}
