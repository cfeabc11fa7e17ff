import type pg from 'pg';
import type { EventBody, ServiceEvent } from '../../core/events.ts';
import type { ServiceState } from '../../core/release/state.ts';
import { eventHash, GENESIS_HASH } from '../event-hash.ts';
import { UPSERT_HEAD, UPSERT_RELEASE, UPSERT_STATE } from '../sql.ts';
import { FencedWrite, type ChainHead, type Fence, type Lease, type NewEvent } from '../types.ts';
import { EVENTS_CHANNEL } from './connect.ts';

/** The transaction lock that makes the hash chain one writer at a time across every replica. */
export const CHAIN_LOCK = 0x51_1c_e0_02;
/** Most commits written in one transaction. */
const MAX_BATCH = 200;

interface Pending {
  service: string;
  events: NewEvent[];
  state: ServiceState;
  fence: Fence | undefined;
  resolve: (stored: ServiceEvent[]) => void;
  reject: (err: unknown) => void;
}

type Row = Record<string, unknown>;

/**
 * Group commit: the commits that arrive while a transaction is being written wait for it and go
 * together in the next one, so many services' decisions share one chain lock, one round trip for
 * their fences and one for their rows. Each commit still gets its own answer: a stale fence
 * refuses that commit only. Order is kept: events are chained in the order commits were asked.
 */
export class GroupCommit {
  readonly #transaction: <T>(work: (c: pg.PoolClient) => Promise<T>) => Promise<T>;
  #queue: Pending[] = [];
  #writing = false;

  constructor(transaction: <T>(work: (c: pg.PoolClient) => Promise<T>) => Promise<T>) {
    this.#transaction = transaction;
  }

  commit(service: string, events: NewEvent[], state: ServiceState, fence: Fence | undefined): Promise<ServiceEvent[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ service, events, state, fence, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        let results: (ServiceEvent[] | FencedWrite)[];
        try {
          results = await this.#transaction((c) => write(c, batch));
        } catch (err) {
          for (const p of batch) p.reject(err);
          continue;
        }
        batch.forEach((p, i) => {
          const r = results[i]!;
          if (r instanceof FencedWrite) p.reject(r);
          else p.resolve(r);
        });
      }
    } finally {
      this.#writing = false;
    }
  }
}

/**
 * Fences and chain head in one round trip: the batch's leases are read FOR SHARE (a lease cannot
 * change before this transaction ends), then the chain lock is taken and the head read under it.
 */
const FENCES_AND_TIP = `WITH l AS MATERIALIZED (
    SELECT service, holder, epoch, expires_at FROM leases WHERE service = ANY($2::text[]) FOR SHARE)
  SELECT 'lease' AS kind, service, holder, epoch, expires_at, NULL::bigint AS seq, NULL AS hash FROM l
  UNION ALL
  SELECT 'tip', NULL, NULL, NULL, NULL, seq, hash FROM sluice_chain_tip($1)`;

/**
 * One transaction for a batch: fences checked (FOR SHARE) and the chain head read under the chain
 * lock in one round trip, then one statement for every row. (Arrays over unnest, one prepared
 * statement, were tried: pg's escaping of 2 MB of JSON text into array literals and PostgreSQL's
 * parsing of them cost more than the placeholders they replace.)
 */
async function write(c: pg.ClientBase, batch: Pending[]): Promise<(ServiceEvent[] | FencedWrite)[]> {
  const fenced = [...new Set(batch.filter((p) => p.fence !== undefined).map((p) => p.service))];
  const leases = new Map<string, Lease>();
  let tip: Row | undefined;
  for (const r of (await c.query(FENCES_AND_TIP, [CHAIN_LOCK, fenced])).rows as Row[]) {
    if (r.kind === 'tip') tip = r;
    else
      leases.set(String(r.service), {
        service: String(r.service),
        holder: String(r.holder),
        epoch: Number(r.epoch),
        expiresAt: Number(r.expires_at),
      });
  }
  const refused = batch.map((p) => {
    if (p.fence === undefined) return null;
    const l = leases.get(p.service) ?? null;
    return l === null || l.epoch !== p.fence.epoch || l.holder !== p.fence.holder
      ? new FencedWrite(p.service, p.fence, l)
      : null;
  });
  let head: ChainHead =
    tip === undefined
      ? { seq: 0, hash: GENESIS_HASH }
      : { seq: Number(tip.seq), hash: String(tip.hash ?? GENESIS_HASH) };
  const args: unknown[] = [];
  const arg = (v: unknown): string => `$${args.push(v)}`;
  const sql = (template: string, values: unknown[]): string => {
    let i = 0;
    return template.replace(/\?/g, () => arg(values[i++]));
  };
  const rows: string[] = [];
  // Projections: the last state per service and the last version of each release in the batch.
  const states = new Map<string, unknown[]>();
  const releases = new Map<string, unknown[]>();
  const notified = new Set<string>();
  const results: (ServiceEvent[] | FencedWrite)[] = batch.map((p, i) => {
    if (refused[i] !== null) return refused[i]!;
    const stored: ServiceEvent[] = [];
    for (const e of p.events) {
      const { at, actor, ...rest } = e;
      const body = JSON.stringify(rest);
      // Hashed as it will be read back (JSON round trip), so verify recomputes the same bytes.
      const event = {
        ...(JSON.parse(body) as EventBody),
        service: p.service,
        at,
        actor,
        seq: head.seq + 1,
      } as ServiceEvent;
      const hash = eventHash(head.hash, event);
      rows.push(`(${[event.seq, p.service, e.type, at, actor, body, head.hash, hash].map(arg).join(', ')})`);
      head = { seq: event.seq, hash };
      stored.push(event);
    }
    const seq = stored.at(-1)?.seq ?? p.state.seq;
    states.set(p.service, [p.service, seq, JSON.stringify({ ...p.state, seq })]);
    const r = p.state.release;
    if (r !== null)
      releases.set(r.id, [r.id, p.service, r.number, r.status, r.startedAt, r.endedAt, JSON.stringify(r)]);
    if (stored.length > 0) notified.add(p.service);
    return stored;
  });
  // Only the last of each is written (one statement may not update a row twice), its parameters only.
  const writes = [
    ...[...states.values()].map((v) => sql(UPSERT_STATE, v)),
    ...[...releases.values()].map((v) => sql(UPSERT_RELEASE, v)),
  ].map((s, i) => `w${i} AS (${s})`);
  if (rows.length > 0) {
    writes.push(
      `ev AS (INSERT INTO events (seq, service, type, at, actor, body, prev_hash, hash) VALUES ${rows.join(', ')})`,
    );
    writes.push(`hd AS (${sql(UPSERT_HEAD, [head.seq, head.hash])})`);
  }
  if (writes.length > 0) {
    const notify =
      notified.size > 0
        ? `SELECT pg_notify(${arg(EVENTS_CHANNEL)}, s) FROM unnest(${arg([...notified])}::text[]) AS s`
        : 'SELECT 1';
    await c.query(`WITH ${writes.join(', ')} ${notify}`, args);
  }
  return results;
}
