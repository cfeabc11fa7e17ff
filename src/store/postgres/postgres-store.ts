import pg from 'pg';
import type { EventBody, ServiceEvent } from '../../core/events.ts';
import type { ReleaseState, ServiceState } from '../../core/state.ts';
import { eventHash, GENESIS_HASH } from '../event-hash.ts';
import { INSERT_REVISION, UPSERT_HEAD, UPSERT_RELEASE, UPSERT_SERVICE, UPSERT_STATE } from '../sql.ts';
import type { ChainHead, ChainRow, EventQuery, Fence, NewEvent, Store, StoredRevision, StoredService } from '../types.ts';
import { connectPool, describePgError, EVENTS_CHANNEL } from './connect.ts';
import { migrate, type MigrateResult } from './migrate.ts';
import { PostgresLeases } from './postgres-leases.ts';
import { PostgresTokens } from './postgres-tokens.ts';
import { toChainRow, toEvent, toRevision, toService } from './pg-rows.ts';

/** The portable SQL of sql.ts with PostgreSQL's numbered placeholders. */
export const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** The transaction lock that makes the hash chain one writer at a time across every replica. */
const CHAIN_LOCK = 0x51_1c_e0_02;

type Row = Record<string, unknown>;

/**
 * The store on a PostgreSQL database several `sluice server` replicas share: the same tables as
 * the SQLite store plus leases (postgres-leases.ts), its schema migrated at open (migrate.ts).
 * Every commit takes one transaction-scoped advisory lock, so the chain has one writer at a time,
 * and checks a fence, when given, in the same transaction.
 */
export class PostgresStore implements Store {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly leases: PostgresLeases;
  readonly tokens: PostgresTokens;
  readonly migrated: MigrateResult;

  private constructor(url: string, pool: pg.Pool, migrated: MigrateResult) {
    this.url = url;
    this.pool = pool;
    this.migrated = migrated;
    this.leases = new PostgresLeases(url, pool);
    this.tokens = new PostgresTokens(pool);
  }

  /** Connect, check the database is writable, and migrate its schema (StoreUnavailable, SchemaTooNew). */
  static async open(url: string, o: { now?: number; poolSize?: number } = {}): Promise<PostgresStore> {
    const pool = await connectPool(url, o.poolSize);
    const client = await pool.connect();
    let migrated: MigrateResult;
    try {
      migrated = await migrate(client, o.now ?? Date.now());
    } catch (err) {
      client.release();
      await pool.end().catch(() => undefined);
      throw describeOr(url, err);
    }
    client.release();
    return new PostgresStore(url, pool, migrated);
  }

  /** Runs `work` in one transaction on one connection. */
  async transaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Under the chain lock only what needs it, in two round trips: the head (read with the lock,
   * sluice_chain_tip), then one statement that inserts the events and writes the head, the
   * projections and the wake-up. The fence is checked before, in the same transaction.
   */
  async commit(service: string, events: NewEvent[], state: ServiceState, fence?: Fence): Promise<ServiceEvent[]> {
    return this.transaction(async (c) => {
      if (fence !== undefined) await this.leases.check(c, service, fence);
      const tip = (await c.query('SELECT seq, hash FROM sluice_chain_tip($1)', [CHAIN_LOCK])).rows[0] as Row | undefined;
      let head: ChainHead = tip === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: Number(tip.seq), hash: String(tip.hash ?? GENESIS_HASH) };
      const stored: ServiceEvent[] = [];
      const args: unknown[] = [];
      const arg = (v: unknown): string => `$${args.push(v)}`;
      const rows: string[] = [];
      for (const e of events) {
        const { at, actor, ...rest } = e;
        const body = JSON.stringify(rest);
        // Hashed as it will be read back (JSON round trip), so verify recomputes the same bytes.
        const event = { ...(JSON.parse(body) as EventBody), service, at, actor, seq: head.seq + 1 } as ServiceEvent;
        const hash = eventHash(head.hash, event);
        rows.push(`(${[event.seq, service, e.type, at, actor, body, head.hash, hash].map(arg).join(', ')})`);
        head = { seq: event.seq, hash };
        stored.push(event);
      }
      const seq = stored.at(-1)?.seq ?? state.seq;
      const writes: string[] = [];
      const sql = (template: string, values: unknown[]): string => {
        let i = 0;
        return template.replace(/\?/g, () => arg(values[i++]));
      };
      writes.push(`st AS (${sql(UPSERT_STATE, [service, seq, JSON.stringify({ ...state, seq })])})`);
      const r = state.release;
      if (r !== null) writes.push(`rel AS (${sql(UPSERT_RELEASE, [r.id, service, r.number, r.status, r.startedAt, r.endedAt, JSON.stringify(r)])})`);
      if (stored.length > 0) {
        writes.push(`ev AS (INSERT INTO events (seq, service, type, at, actor, body, prev_hash, hash) VALUES ${rows.join(', ')})`);
        writes.push(`hd AS (${sql(UPSERT_HEAD, [head.seq, head.hash])})`);
      }
      const notify = stored.length > 0 ? `SELECT pg_notify(${arg(EVENTS_CHANNEL)}, ${arg(service)})` : 'SELECT 1';
      await c.query(`WITH ${writes.join(', ')} ${notify}`, args);
      return stored;
    });
  }

  async events(q: EventQuery): Promise<ServiceEvent[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.service !== undefined) { args.push(q.service); where.push(`service = $${args.length}`); }
    if (q.afterSeq !== undefined) { args.push(q.afterSeq); where.push(`seq > $${args.length}`); }
    if (q.since !== undefined) { args.push(q.since); where.push(`at >= $${args.length}`); }
    args.push(q.limit ?? 1_000_000);
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${args.length}`;
    return (await this.pool.query(sql, args)).rows.map(toEvent);
  }

  async chain(q: { afterSeq?: number; limit?: number }): Promise<ChainRow[]> {
    const r = await this.pool.query('SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2', [q.afterSeq ?? 0, q.limit ?? 1_000_000]);
    return r.rows.map(toChainRow);
  }

  async chainHead(): Promise<ChainHead | null> {
    const r = await this.pool.query('SELECT seq, hash FROM audit_head WHERE id = 1');
    const row = r.rows[0] as Row | undefined;
    return row === undefined ? null : { seq: Number(row.seq), hash: String(row.hash) };
  }

  async states(): Promise<ServiceState[]> {
    return (await this.pool.query('SELECT state FROM service_states ORDER BY service COLLATE "C"')).rows.map((r: Row) => JSON.parse(String(r.state)) as ServiceState);
  }

  async releases(service: string, limit = 100): Promise<ReleaseState[]> {
    const r = await this.pool.query('SELECT release FROM releases WHERE service = $1 ORDER BY number DESC LIMIT $2', [service, limit]);
    return r.rows.map((row: Row) => JSON.parse(String(row.release)) as ReleaseState);
  }

  async putRevision(r: StoredRevision): Promise<void> {
    await this.pool.query(numbered(INSERT_REVISION), [r.service, r.key, r.number, r.version, r.templateHash, r.baseDir, r.file, r.createdAt, r.createdBy, JSON.stringify(r.spec)]);
  }

  async revision(service: string, key: string): Promise<StoredRevision | null> {
    const row = (await this.pool.query('SELECT * FROM revisions WHERE service = $1 AND key = $2', [service, key])).rows[0] as Row | undefined;
    return row === undefined ? null : toRevision(row);
  }

  async revisions(service: string): Promise<StoredRevision[]> {
    return (await this.pool.query('SELECT * FROM revisions WHERE service = $1 ORDER BY number', [service])).rows.map(toRevision);
  }

  async putService(s: StoredService): Promise<void> {
    await this.pool.query(numbered(UPSERT_SERVICE), [s.name, s.revisionKey, s.baseDir, s.file, s.updatedAt, JSON.stringify(s.spec)]);
  }

  async service(name: string): Promise<StoredService | null> {
    const row = (await this.pool.query('SELECT * FROM services WHERE name = $1', [name])).rows[0] as Row | undefined;
    return row === undefined ? null : toService(row);
  }

  async services(): Promise<StoredService[]> {
    return (await this.pool.query('SELECT * FROM services ORDER BY name COLLATE "C"')).rows.map(toService);
  }

  async deleteService(name: string): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('DELETE FROM services WHERE name = $1', [name]);
      await c.query('DELETE FROM service_states WHERE service = $1', [name]);
    });
  }

  async close(): Promise<void> {
    await this.leases.close();
    await this.pool.end();
  }
}

/** Errors from pg (with a code) get an operator's words; our own errors pass through. */
function describeOr(url: string, err: unknown): Error {
  return typeof (err as { code?: unknown }).code === 'string' ? describePgError(url, err) : (err as Error);
}
