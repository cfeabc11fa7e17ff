import { fourKeys, fourKeysByBucket, type FourKeys, type KeysFilter } from '../core/analytics/four-keys.ts';
import { type ImportRecord, type LineError, readImportText } from '../core/analytics/import-lines.ts';
import { DEFAULT_TIERS, TIER_THRESHOLDS } from '../core/analytics/tiers.ts';
import type { Bucketing, Commit, Deployment } from '../core/analytics/types.ts';
import type { EventBody, ServiceEvent } from '../core/events.ts';
import { emptyState } from '../core/release/state.ts';
import { SluiceError } from '../errors.ts';
import type { EventBus } from '../engine/event-bus.ts';
import { SERVER_LOG } from '../engine/server-log.ts';
import type { Store } from '../store/types.ts';
import type { AnalyticsStore, PutCounts } from './analytics-store.ts';
import { projectLog } from './log-projection.ts';

export type ImportSource = Extract<EventBody, { type: 'analytics.imported' }>['source'];

/** What an import did, per kind of line, and the lines refused (with their numbers). */
export interface ImportSummary {
  deployments: PutCounts;
  commits: PutCounts;
  incidents: PutCounts;
  versions: PutCounts;
  rejected: number;
  /** The first 100 refused lines; `rejected` counts them all. */
  errors: LineError[];
}

export interface DoraQuery {
  since: number;
  until: number;
  environment: string;
  service?: string;
  team?: string;
  bucket?: Bucketing;
  tiers?: string;
}

export interface DoraAnswer extends FourKeys {
  buckets?: FourKeys[];
}

const zero = (): PutCounts => ({ added: 0, unchanged: 0, updated: 0 });
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The analytics capability: imports (files, API, incident webhooks, git), the projection of
 * Sluice's own releases, and the four keys over any window. Each import is one
 * `analytics.imported` event in the log, under `_server`.
 */
export class Analytics {
  readonly #store: Store;
  readonly #analytics: AnalyticsStore;
  readonly #bus: EventBus;
  readonly #now: () => number;
  /** Projections run one at a time. */
  #projecting: Promise<unknown> = Promise.resolve();

  constructor(o: { store: Store; analytics: AnalyticsStore; bus: EventBus; now?: () => number }) {
    this.#store = o.store;
    this.#analytics = o.analytics;
    this.#bus = o.bus;
    this.#now = o.now ?? Date.now;
  }

  get history(): AnalyticsStore {
    return this.#analytics;
  }

  /** Project the log's new events; every query calls it first, so answers include the latest release. */
  async project(): Promise<void> {
    const run = this.#projecting.then(() => projectLog(this.#store, this.#analytics));
    this.#projecting = run.catch(() => undefined);
    await run;
  }

  async importText(text: string, source: ImportSource, actor: string): Promise<ImportSummary> {
    const { records, errors } = readImportText(text);
    return this.importRecords(records, errors, source, actor);
  }

  async importRecords(
    records: readonly ImportRecord[],
    errors: readonly LineError[],
    source: ImportSource,
    actor: string,
  ): Promise<ImportSummary> {
    const of = <T extends ImportRecord['type']>(type: T) =>
      records.filter((r): r is Extract<ImportRecord, { type: T }> => r.type === type);
    const a = this.#analytics;
    const summary: ImportSummary = {
      // Commits first, so a deployment's lead times are complete as soon as it is written.
      commits: records.some((r) => r.type === 'commit') ? a.putCommits(of('commit').map((r) => r.commit)) : zero(),
      versions: records.some((r) => r.type === 'version')
        ? a.putVersionCommits(of('version').map((r) => r.version))
        : zero(),
      deployments: records.some((r) => r.type === 'deployment')
        ? a.putDeployments(of('deployment').map((r) => r.deployment))
        : zero(),
      incidents: records.some((r) => r.type === 'incident')
        ? a.putIncidents(of('incident').map((r) => r.incident))
        : zero(),
      rejected: errors.length,
      errors: errors.slice(0, 100),
    };
    // New version → commit mappings change Sluice's own deployments: project the log again from its start.
    if (summary.versions.added > 0) a.setProjectedSeq(0);
    const total = (k: keyof PutCounts) =>
      summary.commits[k] + summary.versions[k] + summary.deployments[k] + summary.incidents[k];
    await this.#record(
      {
        type: 'analytics.imported',
        source,
        added: total('added'),
        unchanged: total('unchanged'),
        updated: total('updated'),
        rejected: errors.length,
      },
      actor,
    );
    return summary;
  }

  /** Record server-level events of this capability (imports, retrospectives, reports) in the log under `_server`. */
  async #record(event: EventBody, actor: string): Promise<ServiceEvent> {
    const stored = await this.#store.commit(SERVER_LOG, [{ ...event, at: this.#now(), actor }], emptyState(SERVER_LOG));
    this.#bus.publish(stored);
    return stored[0]!;
  }

  async recordServerEvent(event: EventBody, actor: string): Promise<ServiceEvent> {
    return this.#record(event, actor);
  }

  /** The four keys of a window (and of its buckets when asked). Unknown services, teams and environments are errors. */
  async dora(q: DoraQuery): Promise<DoraAnswer> {
    if (!(q.since < q.until))
      throw new SluiceError(
        'BAD_REQUEST',
        `since ${iso(q.since)} is not before until ${iso(q.until)}; give a window with since < until`,
      );
    const tiers = q.tiers === undefined ? DEFAULT_TIERS : TIER_THRESHOLDS[q.tiers];
    if (tiers === undefined)
      throw new SluiceError(
        'BAD_REQUEST',
        `tiers "${q.tiers}" is not a known set of thresholds; valid: ${Object.keys(TIER_THRESHOLDS).join(', ')}`,
      );
    await this.project();
    this.checkKnown(q);
    const filter: KeysFilter = {
      environment: q.environment,
      ...(q.service !== undefined && { service: q.service }),
      ...(q.team !== undefined && { team: q.team }),
    };
    const window = { since: q.since, until: q.until };
    const history = this.#analytics.history(filter, window);
    if (q.bucket === undefined) return fourKeys(history, window, filter, tiers);
    const { total, buckets } = fourKeysByBucket(history, window, filter, q.bucket, tiers);
    return { ...total, buckets };
  }

  checkKnown(q: { service?: string; team?: string; environment: string }): void {
    const { services, environments } = this.#analytics.catalogue();
    const list = (xs: string[]) =>
      xs.length === 0 ? 'none yet (import history or release with Sluice first)' : xs.join(', ');
    if (q.service !== undefined && !services.some((s) => s.service === q.service)) {
      throw new SluiceError(
        'NOT_FOUND',
        `service "${q.service}" has no deployments in the analytics history; known: ${list(services.map((s) => s.service))}`,
      );
    }
    const teams = [...new Set(services.flatMap((s) => (s.team === null ? [] : [s.team])))];
    if (q.team !== undefined && !teams.includes(q.team))
      throw new SluiceError(
        'NOT_FOUND',
        `team "${q.team}" has no deployments in the analytics history; known: ${list(teams)}`,
      );
    if (!environments.includes(q.environment) && environments.length > 0) {
      throw new SluiceError(
        'NOT_FOUND',
        `environment "${q.environment}" has no deployments in the analytics history; known: ${list(environments)}`,
      );
    }
  }

  /** The log's head: what a report or document was generated from. */
  async logHead(): Promise<{ seq: number; hash: string | null }> {
    const head = await this.#store.chainHead();
    return { seq: head?.seq ?? 0, hash: head?.hash ?? null };
  }

  deployments(filter: KeysFilter, window: { since: number; until: number }, limit = 1000): Deployment[] {
    return this.#analytics.deployments(filter, window, limit);
  }

  commits(shas: readonly string[]): Commit[] {
    return this.#analytics.commits(shas);
  }
}
