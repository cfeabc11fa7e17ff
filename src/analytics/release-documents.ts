import {
  communications,
  releasePlan,
  retrospective,
  rollbackLog,
  stagedSchedule,
} from '../core/documents/release-documents.ts';
import { runbook, type RunbookDrill } from '../core/documents/runbook.ts';
import { specDiff } from '../core/documents/plain-words.ts';
import { storyboard, type Storyboard } from '../core/documents/storyboard.ts';
import { DRILL_LOG, DRILL_SCHEDULE_EVENT_TYPES } from '../core/drills/events.ts';
import { drillRecords, type StoredDrillEvent } from '../core/drills/record.ts';
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

/** Every event of one log, oldest first. */
async function logEvents(store: Store, service: string): Promise<ServiceEvent[]> {
  const out: ServiceEvent[] = [];
  for (let afterSeq = 0; ;) {
    const page = await store.events({ service, afterSeq, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    afterSeq = page.at(-1)!.seq;
  }
}

/** The id of the plan an event of the governance log belongs to (null: none). */
function planOf(e: ServiceEvent): string | null {
  switch (e.type) {
    case 'plan.requested':
      return e.plan.id;
    case 'gate.evaluated':
    case 'plan.decided':
      return e.planId;
    case 'approval.given':
      return e.approval.planId;
    case 'gate.overridden':
      return e.override.planId;
    case 'postmortem.opened':
      return e.postmortem.planId;
    default:
      return null;
  }
}

/**
 * The governance events of the plan that started release `releaseId` of environment service
 * `NAME--ENV`, from the log of `NAME` (its request, gates, approvals, overrides, post-mortem and
 * decision); none for a service without environments.
 */
async function planEvents(store: Store, service: string, releaseId: string): Promise<ServiceEvent[]> {
  const base = serviceEnvironment(service).service;
  if (base === service) return [];
  const events = await logEvents(store, base);
  const decided = events.find(
    (e) => e.type === 'plan.decided' && e.release?.service === service && e.release.id === releaseId,
  );
  if (decided === undefined) return [];
  const planId = planOf(decided);
  return events.filter((e) => planOf(e) === planId);
}

/** The drills run against a service and its rollback rehearsals, each with its last result. */
async function drillsOf(store: Store, service: string): Promise<RunbookDrill[]> {
  const events = await logEvents(store, DRILL_LOG);
  const runs = drillRecords(
    events.filter(
      (e): e is StoredDrillEvent =>
        e.type.startsWith('drill.') && e.type !== 'drill.rehearsed' && !DRILL_SCHEDULE_TYPES.has(e.type),
    ),
  ).filter((r) => r.service === service);
  const last = new Map<string, (typeof runs)[number]>();
  for (const r of runs) if ((last.get(r.drill)?.startedAt ?? -Infinity) <= r.startedAt) last.set(r.drill, r);
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  const drills: RunbookDrill[] = [...last.values()].map((r) => ({
    drill: r.drill,
    lastRun: r.run,
    at: new Date(r.finishedAt ?? r.startedAt).toISOString(),
    result:
      r.status === 'running'
        ? 'running'
        : `${r.status}${r.detail === null ? '' : `: ${r.detail}`} (time to detect ${ms(r.timeToDetectMs)}, to restore ${ms(r.timeToRestoreMs)}${r.score === null ? '' : `, score ${r.score}`})`,
    command: `sluice gameday show ${r.drill} --run ${r.run}`,
  }));
  const { service: base, environment } = serviceEnvironment(service);
  const rehearsals = new Map<string, RunbookDrill>();
  for (const e of events) {
    if (e.type !== 'drill.rehearsed') continue;
    const r = e.result;
    const forThis = (r.service === base && r.environment === environment) || r.ranIn === service;
    if (!forThis) continue;
    rehearsals.set(`${r.version} ${r.environment}`, {
      drill: `rollback rehearsal of ${r.version} for ${r.environment} (in ${r.ranIn})`,
      lastRun: null,
      at: new Date(r.at).toISOString(),
      result: `${r.ok ? 'passed' : 'failed'}: ${r.detail} (time to revert ${ms(r.timeToRevertMs)}, allowed ${r.maxTimeToRevertMs} ms)`,
      command: 'sluice gameday rehearsals',
    });
  }
  return [...drills, ...rehearsals.values()].sort((a, b) => (a.at < b.at ? 1 : -1));
}

const DRILL_SCHEDULE_TYPES = new Set<string>(DRILL_SCHEDULE_EVENT_TYPES);

/** A service name that is not stored: for `NAME` with environments, say which `NAME--ENV` to ask for. */
async function unknownService(store: Store, service: string): Promise<SluiceError> {
  const applied = (await logEvents(store, service)).filter((e) => e.type === 'environments.applied').at(-1);
  if (applied === undefined || applied.type !== 'environments.applied') return notFound(service);
  const names = applied.environments.map((env) => `${service}--${env}`);
  return new SluiceError(
    'NOT_FOUND',
    `${service} runs as environments ${names.join(', ')}: its releases and documents are each environment's; name one, e.g. sluice doc retro ${names.at(-1)}`,
  );
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
    if (kind === 'runbook') {
      const { stored, labels, releases, generatedFrom } = await this.#service(service);
      return runbook({
        service,
        labels,
        file: stored.file,
        releases,
        drills: await drillsOf(this.#store, service),
        generatedFrom,
        generatedAt: this.#now(),
      });
    }
    const input = await this.#input(service, releaseNumber);
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

  /** A release's storyboard: its frames with their checklists from the log, each naming the document it opens. */
  async storyboard(service: string, releaseNumber?: number): Promise<Storyboard> {
    return storyboard(await this.#input(service, releaseNumber));
  }

  async #service(service: string) {
    // The head first: what follows is read up to it, so a document is exactly the log at that position.
    const head = await this.#store.chainHead();
    const generatedFrom = { seq: head?.seq ?? 0, hash: head?.hash ?? null };
    const stored = await this.#store.service(service);
    if (stored === null) throw await unknownService(this.#store, service);
    const spec = stored.spec as Spec;
    const releases = await this.#store.releases(service, 1000);
    return { stored, spec, labels: spec?.metadata?.labels ?? {}, releases, generatedFrom };
  }

  /** What a release's documents are written from. */
  async #input(service: string, releaseNumber: number | undefined): Promise<ReleaseDocInput> {
    const { spec, labels, releases, generatedFrom } = await this.#service(service);
    const release = releaseNumber === undefined ? releases[0] : releases.find((r) => r.number === releaseNumber);
    if (release === undefined) {
      throw new SluiceError(
        'NOT_FOUND',
        releaseNumber === undefined
          ? `${service} has no release yet`
          : `${service} has no release ${releaseNumber}; GET /api/services/${service}/history lists them (1 to ${releases[0]?.number ?? 0})`,
      );
    }
    const events = [
      ...(await releaseEvents(this.#store, service, release, generatedFrom.seq)),
      ...(await planEvents(this.#store, service, release.id)).filter((e) => e.seq <= generatedFrom.seq),
    ].sort((a, b) => a.seq - b.seq);
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
      commits: shas.map((sha) => ({
        sha,
        committedAt: known.get(sha)?.committedAt ?? null,
        message: known.get(sha)?.message ?? null,
      })),
      notifications: spec?.spec?.notifications ?? [],
      specChanges: specDiff((from?.spec as Spec)?.spec ?? {}, (to?.spec as Spec)?.spec ?? {}),
    };
    return input;
  }
}
