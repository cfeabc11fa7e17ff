import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { EventBody, ServiceEvent } from '../../core/events.ts';
import type { ReleaseState, ServiceState } from '../../core/release/state.ts';
import { eventHash } from '../event-hash.ts';
import {
  INSERT_EVENT,
  INSERT_REVISION,
  revisionParams,
  SCHEMA,
  UPSERT_HEAD,
  UPSERT_RELEASE,
  UPSERT_SERVICE,
  UPSERT_STATE,
} from '../sql.ts';
import type { ChainHead, ChainRow, EventQuery, NewEvent, Store, StoredRevision, StoredService } from '../types.ts';
import { chainTip, migrateChain, readHead, toChainRow } from './sqlite-chain.ts';
import { statement } from './statements.ts';

type Row = Record<string, unknown>;

function toEvent(row: Row): ServiceEvent {
  const body = JSON.parse(String(row.body)) as EventBody;
  return { ...body, service: String(row.service), at: Number(row.at), actor: String(row.actor), seq: Number(row.seq) };
}

function toRevision(row: Row): StoredRevision {
  return {
    service: String(row.service),
    key: String(row.key),
    number: Number(row.number),
    version: String(row.version),
    templateHash: String(row.template_hash),
    baseDir: String(row.base_dir),
    file: row.file === null ? null : String(row.file),
    createdAt: Number(row.created_at),
    createdBy: String(row.created_by),
    spec: JSON.parse(String(row.spec)),
  };
}

function toService(row: Row): StoredService {
  return {
    name: String(row.name),
    revisionKey: String(row.revision_key),
    baseDir: String(row.base_dir),
    file: row.file === null ? null : String(row.file),
    updatedAt: Number(row.updated_at),
    spec: JSON.parse(String(row.spec)),
  };
}

/**
 * The embedded store: one SQLite file in WAL mode under the data dir. Synchronous underneath,
 * behind the same async interface as the PostgreSQL store.
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #insertEvent: StatementSync;
  readonly #upsertState: StatementSync;
  readonly #upsertRelease: StatementSync;
  readonly #upsertHead: StatementSync;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec('PRAGMA busy_timeout = 5000');
    for (const ddl of SCHEMA) this.#db.exec(ddl);
    migrateChain(this.#db);
    this.#insertEvent = statement(this.#db, INSERT_EVENT);
    this.#upsertHead = statement(this.#db, UPSERT_HEAD);
    this.#upsertState = statement(this.#db, UPSERT_STATE);
    this.#upsertRelease = statement(this.#db, UPSERT_RELEASE);
  }

  async commit(service: string, events: NewEvent[], state: ServiceState): Promise<ServiceEvent[]> {
    const stored: ServiceEvent[] = [];
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      // The head is read inside the transaction: the chain is extended by one writer at a time.
      let head = chainTip(this.#db);
      for (const e of events) {
        const { at, actor, ...rest } = e;
        const text = JSON.stringify(rest);
        // Hashed as it will be read back (JSON round trip), so verify recomputes the same bytes.
        const event = { ...(JSON.parse(text) as EventBody), service, at, actor, seq: head.seq + 1 } as ServiceEvent;
        const hash = eventHash(head.hash, event);
        this.#insertEvent.run(event.seq, service, e.type, at, actor, text, head.hash, hash);
        head = { seq: event.seq, hash };
        stored.push(event);
      }
      if (stored.length > 0) this.#upsertHead.run(head.seq, head.hash);
      const seq = stored.at(-1)?.seq ?? state.seq;
      this.#upsertState.run(service, seq, JSON.stringify({ ...state, seq }));
      const r = state.release;
      if (r !== null)
        this.#upsertRelease.run(r.id, service, r.number, r.status, r.startedAt, r.endedAt, JSON.stringify(r));
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
    return stored;
  }

  async events(q: EventQuery): Promise<ServiceEvent[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.service !== undefined) {
      where.push('service = ?');
      args.push(q.service);
    }
    if (q.afterSeq !== undefined) {
      where.push('seq > ?');
      args.push(q.afterSeq);
    }
    if (q.since !== undefined) {
      where.push('at >= ?');
      args.push(q.since);
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    args.push(q.limit ?? 1_000_000);
    return (statement(this.#db, sql).all(...args) as Row[]).map(toEvent);
  }

  async chain(q: { afterSeq?: number; limit?: number }): Promise<ChainRow[]> {
    const rows = statement(this.#db, 'SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?').all(
      q.afterSeq ?? 0,
      q.limit ?? 1_000_000,
    ) as Row[];
    return rows.map(toChainRow);
  }

  async chainHead(): Promise<ChainHead | null> {
    return readHead(this.#db);
  }

  async states(names?: readonly string[]): Promise<ServiceState[]> {
    const rows =
      names === undefined
        ? statement(this.#db, 'SELECT state FROM service_states ORDER BY service').all()
        : statement(
            this.#db,
            'SELECT state FROM service_states WHERE service IN (SELECT value FROM json_each(?)) ORDER BY service',
          ).all(JSON.stringify(names));
    return (rows as Row[]).map((r) => JSON.parse(String(r.state)) as ServiceState);
  }

  async releases(service: string, limit = 100): Promise<ReleaseState[]> {
    const rows = statement(this.#db, 'SELECT release FROM releases WHERE service = ? ORDER BY number DESC LIMIT ?').all(
      service,
      limit,
    ) as Row[];
    return rows.map((r) => JSON.parse(String(r.release)) as ReleaseState);
  }

  async putRevision(r: StoredRevision): Promise<void> {
    statement(this.#db, INSERT_REVISION).run(...revisionParams(r));
  }

  async revision(service: string, key: string): Promise<StoredRevision | null> {
    const row = statement(this.#db, 'SELECT * FROM revisions WHERE service = ? AND key = ?').get(service, key) as
      Row | undefined;
    return row === undefined ? null : toRevision(row);
  }

  async revisions(service: string): Promise<StoredRevision[]> {
    return (statement(this.#db, 'SELECT * FROM revisions WHERE service = ? ORDER BY number').all(service) as Row[]).map(
      toRevision,
    );
  }

  async putService(s: StoredService): Promise<void> {
    statement(this.#db, UPSERT_SERVICE).run(
      s.name,
      s.revisionKey,
      s.baseDir,
      s.file,
      s.updatedAt,
      JSON.stringify(s.spec),
    );
  }

  async service(name: string): Promise<StoredService | null> {
    const row = statement(this.#db, 'SELECT * FROM services WHERE name = ?').get(name) as Row | undefined;
    return row === undefined ? null : toService(row);
  }

  async services(): Promise<StoredService[]> {
    return (statement(this.#db, 'SELECT * FROM services ORDER BY name').all() as Row[]).map(toService);
  }

  async deleteService(name: string): Promise<void> {
    statement(this.#db, 'DELETE FROM services WHERE name = ?').run(name);
    statement(this.#db, 'DELETE FROM service_states WHERE service = ?').run(name);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
