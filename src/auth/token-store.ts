import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SluiceError } from '../errors.ts';
import type { TokenTable } from '../store/types.ts';
import type { TokenRole } from './roles.ts';
import { matches, newSecret, tokenId } from './token-secret.ts';

/** A token as stored: never the token itself, only its hash. */
export interface TokenRecord {
  id: string;
  /** Who acts with it: the actor of every event it causes. Unique among live tokens. */
  name: string;
  role: TokenRole;
  /** The one environment an sdk token reads (null for every other role). */
  environment: string | null;
  hash: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

/** What a request carries once its token is accepted. */
export interface Principal {
  tokenId: string;
  name: string;
  role: TokenRole;
  environment: string | null;
  expiresAt: number | null;
}

export const isLive = (t: TokenRecord, now: number) =>
  t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now);

type Row = Record<string, unknown>;
const toRecord = (r: Row): TokenRecord => ({
  id: String(r.id),
  name: String(r.name),
  role: String(r.role) as TokenRole,
  environment: r.environment === null || r.environment === undefined ? null : String(r.environment),
  hash: String(r.hash),
  createdAt: Number(r.created_at),
  createdBy: String(r.created_by),
  expiresAt: r.expires_at === null ? null : Number(r.expires_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

/**
 * The API tokens, in a table of the data dir's SQLite file, or of the shared PostgreSQL database
 * (`TokenStore.shared`). Every token is held in memory too: a request is authenticated without a
 * query. With one server per data dir this process is the only writer; replicas on a shared
 * database `reload` when another one created or revoked a token (its event reaches them).
 */
export class TokenStore {
  readonly #db: DatabaseSync | null;
  readonly #table: TokenTable | null;
  readonly #byId = new Map<string, TokenRecord>();
  /** Writes to the shared table, in order; `persisted` waits for them. */
  #writes: Promise<void> = Promise.resolve();

  /** The tokens of a shared database (replicas), loaded now. */
  static async shared(table: TokenTable): Promise<TokenStore> {
    const store = new TokenStore(null, table);
    await store.reload();
    return store;
  }

  constructor(path: string | null, table: TokenTable | null = null) {
    this.#table = table;
    if (path === null) {
      this.#db = null;
      return;
    }
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA busy_timeout = 5000');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS api_tokens (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL, created_at BIGINT NOT NULL,
      created_by TEXT NOT NULL, expires_at BIGINT, revoked_at BIGINT)`);
    // sdk tokens (flags) read one environment: a column added to tables made before them.
    const columns = this.#db.prepare('PRAGMA table_info(api_tokens)').all() as Row[];
    if (!columns.some((c) => c.name === 'environment'))
      this.#db.exec('ALTER TABLE api_tokens ADD COLUMN environment TEXT');
    for (const row of this.#db.prepare('SELECT * FROM api_tokens').all() as Row[])
      this.#byId.set(String(row.id), toRecord(row));
  }

  list(): TokenRecord[] {
    return [...this.#byId.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Creates a token; the returned `token` is the only time its secret exists outside the caller. */
  /** Without a name, the token is named `<role>-<id>`. */
  create(o: {
    name?: string | undefined;
    role: TokenRole;
    environment?: string | null;
    createdBy: string;
    now: number;
    ttlMs: number | null;
  }): { token: string; record: TokenRecord } {
    const taken = this.list().find((t) => t.name === o.name && isLive(t, o.now));
    if (taken)
      throw new SluiceError(
        'CONFLICT',
        `a live token named "${o.name}" exists (${taken.id}); choose another --name or revoke it first`,
      );
    const secret = newSecret();
    const record: TokenRecord = {
      id: secret.id,
      name: o.name ?? `${o.role}-${secret.id}`,
      role: o.role,
      environment: o.environment ?? null,
      hash: secret.hash,
      createdAt: o.now,
      createdBy: o.createdBy,
      expiresAt: o.ttlMs === null ? null : o.now + o.ttlMs,
      revokedAt: null,
    };
    this.#db
      ?.prepare(
        'INSERT INTO api_tokens (id, name, role, hash, created_at, created_by, expires_at, revoked_at, environment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        record.id,
        record.name,
        record.role,
        record.hash,
        record.createdAt,
        record.createdBy,
        record.expiresAt,
        null,
        record.environment,
      );
    this.#byId.set(record.id, record);
    this.#write(
      () => this.#table!.insert(record),
      () => this.#byId.delete(record.id),
    );
    return { token: secret.token, record };
  }

  /** Revokes the live token with this id or name. */
  revoke(idOrName: string, now: number): TokenRecord {
    const found = this.#byId.get(idOrName) ?? this.list().find((t) => t.name === idOrName && isLive(t, now));
    if (!found) throw new SluiceError('NOT_FOUND', `no token with id or name "${idOrName}"; see sluice token list`);
    if (found.revokedAt !== null) return found;
    if (found.role === 'admin' && !this.list().some((t) => t.id !== found.id && t.role === 'admin' && isLive(t, now))) {
      throw new SluiceError(
        'CONFLICT',
        `"${found.name}" is the last live admin token: revoking it would leave no one able to manage tokens; create another admin token first`,
      );
    }
    this.#db?.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ?').run(now, found.id);
    const revoked = { ...found, revokedAt: now };
    this.#byId.set(found.id, revoked);
    this.#write(
      () => this.#table!.revoke(found.id, now),
      () => undefined,
    );
    return revoked;
  }

  /** The principal of a live token, or null (unknown, wrong secret, revoked or expired). */
  authenticate(token: string, now: number): Principal | null {
    const id = tokenId(token);
    const record = id === null ? undefined : this.#byId.get(id);
    if (record === undefined || !matches(token, record.hash) || !isLive(record, now)) return null;
    return {
      tokenId: record.id,
      name: record.name,
      role: record.role,
      environment: record.environment,
      expiresAt: record.expiresAt,
    };
  }

  /** Shared table: queue a write; a failed insert is undone in memory (`persisted` reports it). */
  #write(work: () => Promise<void>, undo: () => void): void {
    if (this.#table === null) return;
    this.#writes = this.#writes.then(work).catch((err: unknown) => {
      undo();
      throw err;
    });
  }

  /** Resolves once every create and revoke so far is in the shared table (at once without one); throws a failed write. */
  async persisted(): Promise<void> {
    const writes = this.#writes;
    this.#writes = writes.catch(() => undefined);
    await writes;
  }

  /** Shared table: read every token again (another replica created or revoked one). */
  async reload(): Promise<void> {
    if (this.#table === null) return;
    const rows = await this.#table.all();
    this.#byId.clear();
    for (const r of rows) this.#byId.set(r.id, { ...r, role: r.role as TokenRole });
  }

  close(): void {
    this.#db?.close();
  }
}
