import pg from 'pg';
import type { ServiceEvent } from '../../core/events.ts';
import type { ReleaseState, ServiceState } from '../../core/release/state.ts';
import { INSERT_REVISION, revisionParams, UPSERT_SERVICE } from '../sql.ts';
import type {
  ChainHead,
  ChainRow,
  EventQuery,
  Fence,
  NewEvent,
  Store,
  StoredRevision,
  StoredService,
} from '../types.ts';
import { connectPool, describePgError, isQueryTimeout } from './connect.ts';
import { migrate, type MigrateResult } from './migrate.ts';
import { PostgresFlagOutcomes } from './postgres-flag-outcomes.ts';
import { PostgresLeases } from './postgres-leases.ts';
import { PostgresTokens } from './postgres-tokens.ts';
import { GroupCommit } from './group-commit.ts';
import { toChainRow, toEvent, toRevision, toService } from './pg-rows.ts';

/** The portable SQL of sql.ts with PostgreSQL's numbered placeholders. */
export const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

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
  readonly flagOutcomes: PostgresFlagOutcomes;
  readonly migrated: MigrateResult;
  readonly #group: GroupCommit;

  private constructor(url: string, pool: pg.Pool, migrated: MigrateResult) {
    this.url = url;
    this.pool = pool;
    this.migrated = migrated;
    this.leases = new PostgresLeases(url, pool);
    this.tokens = new PostgresTokens(pool);
    this.flagOutcomes = new PostgresFlagOutcomes(pool);
    this.#group = new GroupCommit((work) => this.transaction(work));
  }

  /** Connect, check the database is writable, and migrate its schema (StoreUnavailable, SchemaTooNew). */
  static async open(url: string, o: { now?: number; poolSize?: number } = {}): Promise<PostgresStore> {
    const pool = await connectPool(url, o.poolSize);
    const client = await pool.connect();
    const onError = () => undefined; // the failing query below reports it
    client.on('error', onError);
    let migrated: MigrateResult;
    try {
      migrated = await migrate(client, o.now ?? Date.now());
    } catch (err) {
      client.removeListener('error', onError);
      client.release(true);
      await pool.end().catch(() => undefined);
      throw describeOr(url, err);
    }
    client.removeListener('error', onError);
    client.release();
    return new PostgresStore(url, pool, migrated);
  }

  /** Runs `work` in one transaction on one connection. */
  async transaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // While checked out, the pool does not listen for the connection's errors: the database
    // ending it (the idle-in-transaction timeout after a pause, a restart) would end the process.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // A query that got no answer (connect.ts QUERY_TIMEOUT_MS) leaves the connection in doubt: the
      // answer may still come, or never. It is not rolled back (that would wait as long again) nor
      // reused: released as broken, the pool ends it and the database rolls the transaction back.
      if (isQueryTimeout(err)) broken ??= err as Error;
      else await client.query('ROLLBACK').catch((e: Error) => (broken ??= e));
      throw broken ?? err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * Under the chain lock only what needs it (group-commit.ts): commits arriving together share one
   * transaction; the fence of each is checked in it, and a stale one refuses that commit only.
   */
  async commit(service: string, events: NewEvent[], state: ServiceState, fence?: Fence): Promise<ServiceEvent[]> {
    return this.#group.commit(service, events, state, fence);
  }

  async events(q: EventQuery): Promise<ServiceEvent[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.service !== undefined) {
      args.push(q.service);
      where.push(`service = $${args.length}`);
    }
    if (q.afterSeq !== undefined) {
      args.push(q.afterSeq);
      where.push(`seq > $${args.length}`);
    }
    if (q.since !== undefined) {
      args.push(q.since);
      where.push(`at >= $${args.length}`);
    }
    args.push(q.limit ?? 1_000_000);
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${args.length}`;
    return (await this.pool.query(sql, args)).rows.map(toEvent);
  }

  async chain(q: { afterSeq?: number; limit?: number }): Promise<ChainRow[]> {
    const r = await this.pool.query('SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2', [
      q.afterSeq ?? 0,
      q.limit ?? 1_000_000,
    ]);
    return r.rows.map(toChainRow);
  }

  async chainHead(): Promise<ChainHead | null> {
    const r = await this.pool.query('SELECT seq, hash FROM audit_head WHERE id = 1');
    const row = r.rows[0] as Row | undefined;
    return row === undefined ? null : { seq: Number(row.seq), hash: String(row.hash) };
  }

  async states(names?: readonly string[]): Promise<ServiceState[]> {
    const r =
      names === undefined
        ? await this.pool.query('SELECT state FROM service_states ORDER BY service COLLATE "C"')
        : await this.pool.query(
            'SELECT state FROM service_states WHERE service = ANY($1::text[]) ORDER BY service COLLATE "C"',
            [names],
          );
    return r.rows.map((row: Row) => JSON.parse(String(row.state)) as ServiceState);
  }

  async releases(service: string, limit = 100): Promise<ReleaseState[]> {
    const r = await this.pool.query('SELECT release FROM releases WHERE service = $1 ORDER BY number DESC LIMIT $2', [
      service,
      limit,
    ]);
    return r.rows.map((row: Row) => JSON.parse(String(row.release)) as ReleaseState);
  }

  async putRevision(r: StoredRevision): Promise<void> {
    await this.pool.query(numbered(INSERT_REVISION), revisionParams(r));
  }

  async revision(service: string, key: string): Promise<StoredRevision | null> {
    const row = (await this.pool.query('SELECT * FROM revisions WHERE service = $1 AND key = $2', [service, key]))
      .rows[0] as Row | undefined;
    return row === undefined ? null : toRevision(row);
  }

  async revisions(service: string): Promise<StoredRevision[]> {
    return (await this.pool.query('SELECT * FROM revisions WHERE service = $1 ORDER BY number', [service])).rows.map(
      toRevision,
    );
  }

  async putService(s: StoredService): Promise<void> {
    await this.pool.query(numbered(UPSERT_SERVICE), [
      s.name,
      s.revisionKey,
      s.baseDir,
      s.file,
      s.updatedAt,
      JSON.stringify(s.spec),
    ]);
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
