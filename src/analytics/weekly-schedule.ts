import { bucketStart, DAY_MS } from '../core/analytics/buckets.ts';
import type { ServiceEvent } from '../core/events.ts';
import type { Notifier } from '../drivers/notifiers/types.ts';
import { createNotifier } from '../drivers/registry.ts';
import type { Store } from '../store/types.ts';
import type { Analytics } from './analytics.ts';
import { weeklyReport } from './weekly-report.ts';

type NotifierConfig = { driver: string; events?: unknown } & Record<string, unknown>;

/** Every notifier config of the stored specs that selects `report.weekly`, once each (a team's webhook on ten services gets one report). */
async function reportNotifiers(store: Store): Promise<{ service: string; config: NotifierConfig }[]> {
  const seen = new Map<string, { service: string; config: NotifierConfig }>();
  for (const s of await store.services()) {
    const configs = (s.spec as { spec?: { notifications?: NotifierConfig[] } } | null)?.spec?.notifications ?? [];
    for (const config of configs) {
      if (!Array.isArray(config.events) || !config.events.includes('report.weekly')) continue;
      const { events: _events, ...rest } = config;
      const key = JSON.stringify(rest);
      if (!seen.has(key)) seen.set(key, { service: s.name, config });
    }
  }
  return [...seen.values()];
}

/**
 * The weekly report on a schedule: once per week (Monday 00:00 UTC), when some service's
 * notifications select `report.weekly`, the last full week's report is recorded as a `report.weekly`
 * event under `_server` and sent through those notifiers. Checked hourly; a week is reported once
 * (the week last reported is kept in the analytics store).
 */
export interface ScheduleOptions {
  analytics: Analytics;
  store: Store;
  dataDir: string;
  now: () => number;
  log: (message: string, err?: unknown) => void;
}

export class WeeklyReportSchedule {
  readonly #o: ScheduleOptions;
  #timer: NodeJS.Timeout | null = null;
  /** The last report's notifiers, kept until the next one so their retries can run. */
  #sending: Notifier[] = [];

  constructor(o: ScheduleOptions) {
    this.#o = o;
  }

  start(everyMs = 3_600_000, firstAfterMs = 60_000): void {
    const tick = () =>
      void this.runOnce().catch((err: unknown) => this.#o.log('the weekly report could not be sent', err));
    this.#timer = setTimeout(
      function again(this: WeeklyReportSchedule) {
        tick();
        this.#timer = setTimeout(again.bind(this), everyMs);
        this.#timer.unref();
      }.bind(this),
      firstAfterMs,
    );
    this.#timer.unref();
  }

  /** Report the last full week if it was not reported yet and someone wants it. Returns the event recorded, or null. */
  async runOnce(environment = 'production'): Promise<ServiceEvent | null> {
    const now = this.#o.now();
    const week = new Date(bucketStart(now, 'week') - 7 * DAY_MS).toISOString();
    if (this.#o.analytics.history.reportedWeek() === week) return null;
    const targets = await reportNotifiers(this.#o.store);
    if (targets.length === 0) return null;
    const report = await weeklyReport(this.#o.analytics, { now, environment });
    const event = await this.#o.analytics.recordServerEvent(
      { type: 'report.weekly', environment, week, title: report.title, markdown: report.markdown },
      'sluice-server',
    );
    this.#o.analytics.history.setReportedWeek(week);
    const notifiers: Notifier[] = [];
    for (const t of targets) {
      try {
        notifiers.push(
          createNotifier(t.config, {
            service: t.service,
            serviceDir: `${this.#o.dataDir}/services/${t.service}`,
            log: (_level, message) => this.#o.log(message),
          }),
        );
      } catch (err) {
        this.#o.log(`a notifier of ${t.service} could not be created for the weekly report`, err);
      }
    }
    const previous = this.#sending;
    this.#sending = notifiers;
    await Promise.allSettled(previous.map((n) => n.close()));
    for (const n of notifiers) n.notify(event);
    return event;
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    await Promise.allSettled(this.#sending.map((n) => n.close()));
  }
}
