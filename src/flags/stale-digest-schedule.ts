/**
 * The weekly stale-flag digest (docs/flags.md): once per week, each owner's potentially stale flags
 * are recorded as a `flag.staleDigest` event under `_server` and sent to the notifiers that select
 * `flag.staleDigest` — those of the services labelled with that owner (`metadata.labels.team` or
 * `owner`), or every such notifier when none is. Checked hourly; a week is sent once (the week last
 * sent is kept in the data dir).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketStart } from '../core/analytics/buckets.ts';
import type { EventBody, ServiceEvent } from '../core/events.ts';
import { staleDigests } from '../core/flags/stale-digest.ts';
import { every, NoticeSender, noticeTargets, type NoticeTarget } from '../engine/server-notices.ts';
import type { Store } from '../store/types.ts';
import type { FlagService } from './flag-service.ts';

const SENT_FILE = 'flag-digest.json';

export interface StaleDigestOptions {
  flags: Pick<FlagService, 'list'>;
  store: Store;
  dataDir: string;
  now: () => number;
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
    if ((await this.#sentWeek()) === week) return [];
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
    await this.#setSentWeek(week);
    await this.#sender.send(batch);
    return batch.map((b) => b.event);
  }

  async #sentWeek(): Promise<string | null> {
    try {
      const v = JSON.parse(await readFile(join(this.#o.dataDir, SENT_FILE), 'utf8')) as { week?: unknown };
      return typeof v.week === 'string' ? v.week : null;
    } catch {
      return null;
    }
  }

  async #setSentWeek(week: string): Promise<void> {
    const file = join(this.#o.dataDir, SENT_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify({ week }), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async stop(): Promise<void> {
    this.#stop();
    await this.#sender.close();
  }
}
