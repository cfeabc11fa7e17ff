import {
  communications,
  releasePlan,
  retrospective,
  rollbackLog,
  stagedSchedule,
} from '../core/documents/release-documents.ts';
import { runbook } from '../core/documents/runbook.ts';
import type { DocumentKind, GeneratedDocument, ReleaseDocInput } from '../core/documents/types.ts';
import { serviceEnvironment } from '../core/analytics/from-log.ts';
import type { ServiceEvent } from '../core/events.ts';
import type { ReleaseState } from '../core/release/state.ts';
import { notFound, SluiceError } from '../errors.ts';
import type { Store } from '../store/types.ts';
import type { AnalyticsStore } from './analytics-store.ts';

const PAGE = 5000;

type Spec = {
  metadata?: { labels?: Record<string, string> };
  spec?: Record<string, unknown> & { notifications?: ReleaseDocInput['notifications'] };
} | null;

/** The events of one release, up to `maxSeq`: from its `release.started` to the next release's. */
async function releaseEvents(store: Store, service: string, r: ReleaseState, maxSeq: number): Promise<ServiceEvent[]> {
  const events: ServiceEvent[] = [];
  let started = false;
  for (let afterSeq: number | undefined; ;) {
    const page = await store.events({
      service,
      since: r.startedAt,
      limit: PAGE,
      ...(afterSeq !== undefined && { afterSeq }),
    });
    for (const e of page) {
      if (e.seq > maxSeq) return events;
      if (e.type === 'release.started') {
        if (started && e.release.id !== r.id) return events;
        if (e.release.id === r.id) started = true;
      }
      if (started) events.push(e);
    }
    if (page.length < PAGE) return events;
    afterSeq = page.at(-1)!.seq;
  }
}

/** Top-level fields of `spec` that differ between two revisions' specs. */
function specChanges(from: Spec, to: Spec): string[] {
  const a = from?.spec ?? {};
  const b = to?.spec ?? {};
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .sort();
}

/**
 * Release documents written from the log (docs/documents.md): read at the log's head, each carries
 * the sequence and chain hash it was generated from. Generated on every request, never stored.
 */
export class ReleaseDocuments {
  readonly #store: Store;
  readonly #history: AnalyticsStore;
  readonly #now: () => number;

  constructor(store: Store, history: AnalyticsStore, now: () => number = Date.now) {
    this.#store = store;
    this.#history = history;
    this.#now = now;
  }

  async generate(kind: DocumentKind, service: string, releaseNumber?: number): Promise<GeneratedDocument> {
    const head = await this.#store.chainHead();
    const generatedFrom = { seq: head?.seq ?? 0, hash: head?.hash ?? null };
    const stored = await this.#store.service(service);
    if (stored === null) throw notFound(service);
    const spec = stored.spec as Spec;
    const labels = spec?.metadata?.labels ?? {};
    const releases = await this.#store.releases(service, 1000);
    if (kind === 'runbook') {
      return runbook({
        service,
        labels,
        file: stored.file,
        releases,
        drills: [],
        generatedFrom,
        generatedAt: this.#now(),
      });
    }
    const release = releaseNumber === undefined ? releases[0] : releases.find((r) => r.number === releaseNumber);
    if (release === undefined) {
      throw new SluiceError(
        'NOT_FOUND',
        releaseNumber === undefined
          ? `${service} has no release yet`
          : `${service} has no release ${releaseNumber}; GET /api/services/${service}/history lists them (1 to ${releases[0]?.number ?? 0})`,
      );
    }
    const events = await releaseEvents(this.#store, service, release, generatedFrom.seq);
    const shas = this.#history.versionCommits(serviceEnvironment(service).service).get(release.to.version) ?? [];
    const known = new Map(this.#history.commits(shas).map((c) => [c.sha, c]));
    const [from, to] = await Promise.all([
      release.from === null ? null : this.#store.revision(service, release.from.key),
      this.#store.revision(service, release.to.key),
    ]);
    const input: ReleaseDocInput = {
      service,
      release,
      events,
      labels,
      generatedFrom,
      generatedAt: this.#now(),
      commits: shas.map((sha) => known.get(sha) ?? { sha, service, committedAt: Number.NaN, message: null }),
      notifications: spec?.spec?.notifications ?? [],
      specChanges: specChanges((from?.spec ?? null) as Spec, (to?.spec ?? null) as Spec),
    };
    switch (kind) {
      case 'plan':
        return releasePlan(input);
      case 'schedule':
        return stagedSchedule(input);
      case 'rollback':
        return rollbackLog(input);
      case 'retro':
        return retrospective(input);
      case 'comms':
        return communications(input);
    }
  }
}
