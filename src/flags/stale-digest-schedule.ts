/**
 * The weekly stale-flag digest (docs/flags.md): once per week, each owner's potentially stale flags
 * are recorded as a `flag.staleDigest` event under `_server` and sent to the notifiers that select
 * `flag.staleDigest` — those of the services labelled with that owner (`metadata.labels.team` or
 * `owner`), or every such notifier when none is. Checked hourly by the replica that leads the
 * server's duties; a week is sent once (its events in the log are the mark).
 */
import { bucketStart, DAY_MS } from '../core/analytics/buckets.ts';
import type { EventBody, ServiceEvent } from '../core/events.ts';
import { staleDigests } from '../core/flags/stale-digest.ts';
import { every, noticeRecorded, NoticeSender, noticeTargets, type NoticeTarget } from '../engine/server-notices.ts';
import type { Store } from '../store/types.ts';
import type { FlagService } from './flag-service.ts';

export interface StaleDigestOptions {
  flags: Pick<FlagService, 'list'>;
  store: Store;
  dataDir: string;
  now: () => number;
  /** Whether this replica does the server's duties now (default: always, one server). */
  leads?: () => Promise<boolean>;
  record: (event: EventBody, actor: string) => Promise<ServiceEvent>;
  log: (message: string, err?: unknown) => void;
}

/** The notifiers of the services this owner is named on; all of them when it is named on none. */
export function ownerTargets(targets: readonly NoticeTarget[], owner: string): NoticeTarget[] {
  const own = targets.filter((t) => t.labels.team === owner || t.labels.owner === owner);
  return own.length > 0 ? own : [...targets];
}

export class StaleDigestSchedule {
  readonly #o: StaleDigestOptions;
  readonly #sender: NoticeSender;
  #stop: () => void = () => undefined;

  constructor(o: StaleDigestOptions) {
    this.#o = o;
    this.#sender = new NoticeSender(o.dataDir, o.log);
  }

  start(everyMs = 3_600_000, firstAfterMs = 60_000): void {
    this.#stop = every(everyMs, firstAfterMs, () => {
      this.runOnce().catch((err: unknown) => this.#o.log('the stale-flag digest could not be sent', err));
    });
  }

  /** Send this week's digests if they were not sent yet and someone wants them. Returns the events recorded. */
  async runOnce(): Promise<ServiceEvent[]> {
    const now = this.#o.now();
    const week = new Date(bucketStart(now, 'week')).toISOString();
    if (this.#o.leads !== undefined && !(await this.#o.leads())) return [];
    const sent = (e: ServiceEvent) => e.type === 'flag.staleDigest' && e.week === week;
    if (await noticeRecorded(this.#o.store, bucketStart(now, 'week') - DAY_MS, sent)) return [];
    const targets = await noticeTargets(this.#o.store, 'flag.staleDigest');
    if (targets.length === 0) return [];
    const batch: { event: ServiceEvent; targets: NoticeTarget[] }[] = [];
    for (const d of staleDigests(this.#o.flags.list(), now)) {
      const event = await this.#o.record(
        {
          type: 'flag.staleDigest',
          owner: d.owner,
          week,
          flags: d.flags.map((f) => f.name),
          title: d.title,
          markdown: d.markdown,
        },
        'sluice-server',
      );
      batch.push({ event, targets: ownerTargets(targets, d.owner) });
    }
    await this.#sender.send(batch);
    return batch.map((b) => b.event);
  }

  async stop(): Promise<void> {
    this.#stop();
    await this.#sender.close();
  }
}
