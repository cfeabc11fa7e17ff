import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventBody, ServiceEvent } from '../core/events.ts';
import { emptyState } from '../core/release/state.ts';
import type { LeaseStore, Store } from '../store/types.ts';
import { ERROR_CODES, SluiceError, type ErrorCode } from '../errors.ts';
import type { EventBus } from './event-bus.ts';
import { messageOf } from './retry.ts';
import { SERVER_LOG } from './server-log.ts';

export type ForwardedArgs = Extract<EventBody, { type: 'command.requested' }>['args'];
type ForwardEvent = Extract<EventBody, { type: 'command.requested' | 'command.answered' }>;

export interface ReplicaTailOptions {
  replica: string;
  store: Store;
  leases: LeaseStore;
  bus: EventBus;
  log: Logger;
  now: () => number;
  /** Whether this replica runs the service's release now. */
  runs: (service: string) => boolean;
  /** Carry out a command sent on by another replica for a service this one runs. */
  carryOut: (service: string, command: string, args: ForwardedArgs, actor: string) => Promise<void>;
}

/** Longest a replica waits for the owner to answer a command it sent on. */
const ANSWER_TIMEOUT_MS = 10_000;
/** The log is read this often without a wake-up too (a lost NOTIFY, a reconnecting listener). */
const POLL_MS = 1000;

/**
 * A replica's view of what the others write: it follows the shared log (LISTEN/NOTIFY wakes it,
 * the log is re-read from its cursor), publishes the events of services it does not run to its
 * own live clients, and carries out the commands other replicas sent on for the services it runs.
 */
export class ReplicaTail {
  readonly #o: ReplicaTailOptions;
  #cursor = 0;
  #reading = false;
  #again = false;
  #stopListening: (() => Promise<void>) | null = null;
  #timer: NodeJS.Timeout | undefined;
  readonly #waiting = new Map<string, (e: Extract<ServiceEvent, { type: 'command.answered' }>) => void>();

  constructor(o: ReplicaTailOptions) {
    this.#o = o;
  }

  /** From the log's head now: what was written before this replica started is not replayed to clients. */
  async start(): Promise<void> {
    this.#cursor = (await this.#o.store.chainHead())?.seq ?? 0;
    this.#stopListening = await this.#o.leases.listen(() => this.wake());
    this.#timer = setInterval(() => this.wake(), POLL_MS);
  }

  wake(): void {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    void this.#read()
      .catch((err) => this.#o.log.warn({ err: messageOf(err) }, 'cannot read the shared log; trying again'))
      .finally(() => {
        this.#reading = false;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  async #read(): Promise<void> {
    for (;;) {
      const events = await this.#o.store.events({ afterSeq: this.#cursor, limit: 1000 });
      if (events.length === 0) return;
      this.#cursor = events.at(-1)!.seq;
      // The owner's controller published its services' events itself.
      const others = events.filter((e) => e.service === SERVER_LOG || !this.#o.runs(e.service));
      if (others.length > 0) this.#o.bus.publish(others, 'replica');
      for (const e of events) {
        if (e.type === 'command.answered') this.#waiting.get(e.requestId)?.(e);
        else if (e.type === 'command.requested' && e.replica !== this.#o.replica && this.#o.runs(e.target))
          void this.#answer(e);
      }
      if (events.length < 1000) return;
    }
  }

  async #answer(e: Extract<ServiceEvent, { type: 'command.requested' }>): Promise<void> {
    let error: { code: string; message: string } | null = null;
    try {
      await this.#o.carryOut(e.target, e.command, e.args, e.actor);
    } catch (err) {
      error = { code: err instanceof SluiceError ? err.code : 'INTERNAL', message: messageOf(err) };
    }
    await this.#record(
      [{ type: 'command.answered', target: e.target, requestId: e.requestId, error, replica: this.#o.replica }],
      e.actor,
    );
  }

  async #record(events: ForwardEvent[], actor: string): Promise<void> {
    const at = this.#o.now();
    const stored = await this.#o.store.commit(
      SERVER_LOG,
      events.map((e) => ({ ...e, at, actor })),
      emptyState(SERVER_LOG),
    );
    this.#o.bus.publish(stored);
  }

  /**
   * A command for a service another replica runs becomes an event in the shared log; resolves
   * when the owner answers, throws its refusal, or BUSY when no owner answered in time.
   */
  async forward(target: string, command: string, args: ForwardedArgs, actor: string): Promise<void> {
    const requestId = randomUUID();
    const answered = new Promise<Extract<ServiceEvent, { type: 'command.answered' }>>((resolve) =>
      this.#waiting.set(requestId, resolve),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ANSWER_TIMEOUT_MS)));
    try {
      await this.#record(
        [{ type: 'command.requested', target, requestId, command, args, replica: this.#o.replica }],
        actor,
      );
      const answer = await Promise.race([answered, late]);
      if (answer === null)
        throw new SluiceError(
          'BUSY',
          `no replica running ${target} answered the ${command} within ${ANSWER_TIMEOUT_MS / 1000} s (its owner may be failing over); try again`,
        );
      if (answer.error !== null)
        throw new SluiceError(
          answer.error.code in ERROR_CODES ? (answer.error.code as ErrorCode) : 'CONFLICT',
          answer.error.message,
        );
    } finally {
      clearTimeout(timer);
      this.#waiting.delete(requestId);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#stopListening?.();
  }
}
