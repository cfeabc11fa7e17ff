/**
 * Server-level notices (the weekly report, the stale-flag digest): events of no one service, sent
 * to the notifiers that the stored Service specs configure for them. A notifier config shared by
 * many services (a team's webhook on ten services) gets each notice once. Whether a notice was
 * sent is read from the log itself, which replicas share, and one replica sends them
 * (`Engine.leadsServerDuties`): a notice goes out once however many replicas run.
 */
import type { ServiceEvent } from '../core/events.ts';
import { selects } from '../drivers/notifiers/event-filter.ts';
import type { Notifier } from '../drivers/notifiers/types.ts';
import { createNotifier } from '../drivers/registry.ts';
import type { Store } from '../store/types.ts';
import { SERVER_LOG } from './server-log.ts';

type NotifierConfig = { driver: string; events?: unknown } & Record<string, unknown>;

export interface NoticeTarget {
  /** The first service whose spec configures it (its notifier's folder). */
  service: string;
  /** That service's `metadata.labels`. */
  labels: Record<string, string>;
  config: NotifierConfig;
}

/** Every notifier config of the stored specs whose `events` selects `type` (by name, prefix or group), once each. */
export async function noticeTargets(store: Store, type: ServiceEvent['type']): Promise<NoticeTarget[]> {
  const seen = new Map<string, NoticeTarget>();
  for (const s of await store.services()) {
    const spec = s.spec as {
      metadata?: { labels?: Record<string, string> };
      spec?: { notifications?: NotifierConfig[] };
    } | null;
    for (const config of spec?.spec?.notifications ?? []) {
      if (!Array.isArray(config.events) || !selects(config.events, type)) continue;
      const { events: _events, ...rest } = config;
      const key = JSON.stringify(rest);
      if (!seen.has(key)) seen.set(key, { service: s.name, labels: spec?.metadata?.labels ?? {}, config });
    }
  }
  return [...seen.values()];
}

/** Whether the log already holds a notice `matches` picks, recorded at or after `since` (the mark every replica reads). */
export async function noticeRecorded(
  store: Store,
  since: number,
  matches: (e: ServiceEvent) => boolean,
): Promise<boolean> {
  return (await store.events({ service: SERVER_LOG, since })).some(matches);
}

/**
 * Sends notices; the notifiers of the last batch are kept until the next one so their retries can
 * run. A notifier that cannot be created is logged and skipped.
 */
export class NoticeSender {
  readonly #dataDir: string;
  readonly #log: (message: string, err?: unknown) => void;
  #sending: Notifier[] = [];

  constructor(dataDir: string, log: (message: string, err?: unknown) => void) {
    this.#dataDir = dataDir;
    this.#log = log;
  }

  /** Send each event to its targets, as one batch. */
  async send(batch: { event: ServiceEvent; targets: NoticeTarget[] }[]): Promise<void> {
    const notifiers: Notifier[] = [];
    const created = new Map<NoticeTarget, Notifier | null>();
    const notifierOf = (t: NoticeTarget): Notifier | null => {
      if (!created.has(t)) {
        try {
          const n = createNotifier(t.config, {
            service: t.service,
            serviceDir: `${this.#dataDir}/services/${t.service}`,
            log: (_level, message) => this.#log(message),
          });
          notifiers.push(n);
          created.set(t, n);
        } catch (err) {
          this.#log(`a notifier of ${t.service} (${t.config.driver}) could not be created`, err);
          created.set(t, null);
        }
      }
      return created.get(t) ?? null;
    };
    const previous = this.#sending;
    this.#sending = notifiers;
    await Promise.allSettled(previous.map((n) => n.close()));
    for (const { event, targets } of batch) for (const t of targets) notifierOf(t)?.notify(event);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#sending.map((n) => n.close()));
  }
}

/** Run `tick` after `firstAfterMs`, then every `everyMs` (timers unref'd); returns the stop. */
export function every(everyMs: number, firstAfterMs: number, tick: () => void): () => void {
  let timer = setTimeout(function again() {
    tick();
    timer = setTimeout(again, everyMs);
    timer.unref();
  }, firstAfterMs);
  timer.unref();
  return () => clearTimeout(timer);
}
