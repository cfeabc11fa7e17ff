import { join } from 'node:path';
import type { Logger } from 'pino';
import { DRILL_LOG } from '../core/drills/events.ts';
import type { ServiceEvent } from '../core/events.ts';
import type { Notifier } from '../drivers/notifiers/types.ts';
import type { DriverFactories } from '../drivers/factories.ts';
import type { EventBus } from './event-bus.ts';
import { messageOf } from './retry.ts';

type NotifierConfig = { driver: string } & Record<string, unknown>;

interface ServiceNotifiers {
  configs: string;
  notifiers: Notifier[];
}

/**
 * Delivers every committed event to the notifiers of its service's spec (a drill's, to the drilled service's). Subscribed to the event
 * bus, after the store: a notifier only queues, so a slow or dead receiver never delays a step or
 * a rollback. A notifier that cannot be created is reported through `onFailure` (recorded as a
 * `driver.failed` event by the engine) and skipped; the others still run.
 */
export class NotificationHub {
  readonly #byService = new Map<string, ServiceNotifiers>();
  readonly #dataDir: string;
  readonly #log: Logger;
  readonly #create: DriverFactories['notifier'];
  #onFailure: (service: string, error: string) => void;
  readonly #unsubscribe: () => void;

  constructor(d: { bus: EventBus; dataDir: string; log: Logger; create: DriverFactories['notifier'] }) {
    this.#dataDir = d.dataDir;
    this.#log = d.log;
    this.#create = d.create;
    this.#onFailure = (service, error) => this.#log.warn({ service }, `a notifier could not be created: ${error}`);
    // Replicated: each event is notified by the replica that committed it, once.
    this.#unsubscribe = d.bus.subscribe((event, origin) => {
      if (origin === 'here') this.#deliver(event);
    });
  }

  /** Where a notifier that cannot be created is reported (the engine records it as `driver.failed`). */
  reportFailuresTo(onFailure: (service: string, error: string) => void): void {
    this.#onFailure = onFailure;
  }

  /** (Re)create a service's notifiers when its `spec.notifications` changed; [] removes them. */
  configure(service: string, configs: NotifierConfig[]): void {
    const key = JSON.stringify(configs);
    const current = this.#byService.get(service);
    if (current?.configs === key) return;
    if (current !== undefined) void Promise.allSettled(current.notifiers.map((n) => n.close()));
    const log = this.#log.child({ service, driver: 'notifier' });
    const ctx = {
      service,
      serviceDir: join(this.#dataDir, 'services', service),
      log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) =>
        log[level](detail ?? {}, message),
    };
    const notifiers: Notifier[] = [];
    configs.forEach((config, i) => {
      try {
        notifiers.push(this.#create(config, ctx));
      } catch (err) {
        this.#onFailure(service, `notifications[${i}] (${config.driver}): ${messageOf(err)}`);
      }
    });
    if (notifiers.length === 0 && configs.length === 0) this.#byService.delete(service);
    else this.#byService.set(service, { configs: key, notifiers });
  }

  #deliver(event: ServiceEvent): void {
    // Drill events lie in the drills' own log; they go to the notifiers of the service drilled.
    const service = event.service === DRILL_LOG && 'drilled' in event ? event.drilled : event.service;
    for (const n of this.#byService.get(service)?.notifiers ?? []) n.notify(event);
  }

  /** Stop listening; queued deliveries get the notifiers' short grace. */
  async close(): Promise<void> {
    this.#unsubscribe();
    const all = [...this.#byService.values()].flatMap((s) => s.notifiers);
    this.#byService.clear();
    await Promise.allSettled(all.map((n) => n.close()));
  }
}
