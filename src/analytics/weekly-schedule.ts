import { bucketStart, DAY_MS } from '../core/analytics/buckets.ts';
import type { ServiceEvent } from '../core/events.ts';
import { every, noticeRecorded, NoticeSender, noticeTargets } from '../engine/server-notices.ts';
import type { Store } from '../store/types.ts';
import type { Analytics } from './analytics.ts';
import { weeklyReport } from './weekly-report.ts';

/**
 * The weekly report on a schedule: once per week (Monday 00:00 UTC), when some service's
 * notifications select `report.weekly`, the last full week's report is recorded as a `report.weekly`
 * event under `_server` and sent through those notifiers. Checked hourly by the replica that
 * leads the server's duties; a week is reported once (its event in the log is the mark).
 */
export interface ScheduleOptions {
  analytics: Analytics;
  store: Store;
  dataDir: string;
  now: () => number;
  /** Whether this replica does the server's duties now (default: always, one server). */
  leads?: () => Promise<boolean>;
  log: (message: string, err?: unknown) => void;
}

export class WeeklyReportSchedule {
  readonly #o: ScheduleOptions;
  #stop: () => void = () => undefined;
  readonly #sender: NoticeSender;

  constructor(o: ScheduleOptions) {
    this.#o = o;
    this.#sender = new NoticeSender(o.dataDir, o.log);
  }

  start(everyMs = 3_600_000, firstAfterMs = 60_000): void {
    this.#stop = every(everyMs, firstAfterMs, () => {
      this.runOnce().catch((err: unknown) => this.#o.log('the weekly report could not be sent', err));
    });
  }

  /** Report the last full week if it was not reported yet and someone wants it. Returns the event recorded, or null. */
  async runOnce(environment = 'production'): Promise<ServiceEvent | null> {
    const now = this.#o.now();
    const week = new Date(bucketStart(now, 'week') - 7 * DAY_MS).toISOString();
    const reported = (e: ServiceEvent) =>
      e.type === 'report.weekly' && e.week === week && e.environment === environment;
    if (this.#o.leads !== undefined && !(await this.#o.leads())) return null;
    if (await noticeRecorded(this.#o.store, bucketStart(now, 'week') - DAY_MS, reported)) return null;
    const targets = await noticeTargets(this.#o.store, 'report.weekly');
    if (targets.length === 0) return null;
    const report = await weeklyReport(this.#o.analytics, { now, environment });
    const event = await this.#o.analytics.recordServerEvent(
      { type: 'report.weekly', environment, week, title: report.title, markdown: report.markdown },
      'sluice-server',
    );
    await this.#sender.send([{ event, targets }]);
    return event;
  }

  async stop(): Promise<void> {
    this.#stop();
    await this.#sender.close();
  }
}
