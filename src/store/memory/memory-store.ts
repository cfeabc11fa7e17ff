import type { EventBody, ServiceEvent } from '../../core/events.ts';
import type { ReleaseState, ServiceState } from '../../core/release/state.ts';
import { eventHash, GENESIS_HASH } from '../event-hash.ts';
import type { ChainHead, ChainRow, EventQuery, NewEvent, Store, StoredRevision, StoredService } from '../types.ts';

/** A deep copy through JSON: what is stored is what a database would give back, never a shared object. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * A store held in memory, for tests and simulations that need no durability: the same behaviour
 * as the SQLite and PostgreSQL stores (the conformance suite runs against all three), lost when
 * the process ends.
 */
export class MemoryStore implements Store {
  readonly #rows: ChainRow[] = [];
  #head: ChainHead | null = null;
  readonly #states = new Map<string, ServiceState>();
  readonly #releases = new Map<string, { service: string; release: ReleaseState }>();
  readonly #revisions = new Map<string, StoredRevision>();
  readonly #services = new Map<string, StoredService>();

  async commit(service: string, events: NewEvent[], state: ServiceState): Promise<ServiceEvent[]> {
    const stored: ServiceEvent[] = [];
    let head = this.#head ?? { seq: 0, hash: GENESIS_HASH };
    const rows: ChainRow[] = [];
    for (const e of events) {
      const { at, actor, ...rest } = e;
      const body = JSON.stringify(rest);
      const event = { ...(JSON.parse(body) as EventBody), service, at, actor, seq: head.seq + 1 } as ServiceEvent;
      const hash = eventHash(head.hash, event);
      rows.push({ seq: event.seq, service, type: e.type, at, actor, body, prevHash: head.hash, hash });
      head = { seq: event.seq, hash };
      stored.push(event);
    }
    // Nothing above can fail half-way through a change: the log and projections move together.
    this.#rows.push(...rows);
    if (stored.length > 0) this.#head = head;
    const seq = stored.at(-1)?.seq ?? state.seq;
    this.#states.set(service, copy({ ...state, seq }));
    const r = state.release;
    if (r !== null) this.#releases.set(r.id, { service, release: copy(r) });
    return stored;
  }

  async events(q: EventQuery): Promise<ServiceEvent[]> {
    const out: ServiceEvent[] = [];
    for (const row of this.#rows) {
      if (out.length >= (q.limit ?? 1_000_000)) break;
      if (q.service !== undefined && row.service !== q.service) continue;
      if (q.afterSeq !== undefined && row.seq <= q.afterSeq) continue;
      if (q.since !== undefined && row.at < q.since) continue;
      out.push({
        ...(JSON.parse(row.body) as EventBody),
        service: row.service,
        at: row.at,
        actor: row.actor,
        seq: row.seq,
      });
    }
    return out;
  }

  async chain(q: { afterSeq?: number; limit?: number }): Promise<ChainRow[]> {
    return this.#rows
      .filter((r) => r.seq > (q.afterSeq ?? 0))
      .slice(0, q.limit ?? 1_000_000)
      .map((r) => ({ ...r }));
  }

  async chainHead(): Promise<ChainHead | null> {
    return this.#head === null ? null : { ...this.#head };
  }

  async states(names?: readonly string[]): Promise<ServiceState[]> {
    return [...this.#states.keys()]
      .filter((k) => names === undefined || names.includes(k))
      .sort()
      .map((k) => copy(this.#states.get(k)!));
  }

  async releases(service: string, limit = 100): Promise<ReleaseState[]> {
    return [...this.#releases.values()]
      .filter((r) => r.service === service)
      .sort((a, b) => b.release.number - a.release.number)
      .slice(0, limit)
      .map((r) => copy(r.release));
  }

  async putRevision(r: StoredRevision): Promise<void> {
    const id = `${r.service}\u0000${r.key}`;
    if (this.#revisions.has(id)) throw new Error(`revision ${r.key} of ${r.service} is already stored`);
    this.#revisions.set(id, copy(r));
  }

  async revision(service: string, key: string): Promise<StoredRevision | null> {
    const r = this.#revisions.get(`${service}\u0000${key}`);
    return r === undefined ? null : copy(r);
  }

  async revisions(service: string): Promise<StoredRevision[]> {
    return [...this.#revisions.values()]
      .filter((r) => r.service === service)
      .sort((a, b) => a.number - b.number)
      .map(copy);
  }

  async putService(s: StoredService): Promise<void> {
    this.#services.set(s.name, copy(s));
  }

  async service(name: string): Promise<StoredService | null> {
    const s = this.#services.get(name);
    return s === undefined ? null : copy(s);
  }

  async services(): Promise<StoredService[]> {
    return [...this.#services.keys()].sort().map((k) => copy(this.#services.get(k)!));
  }

  async deleteService(name: string): Promise<void> {
    this.#services.delete(name);
    this.#states.delete(name);
  }

  async close(): Promise<void> {}
}
