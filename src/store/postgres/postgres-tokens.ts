import type pg from 'pg';
import type { StoredToken, TokenTable } from '../types.ts';

type Row = Record<string, unknown>;
const toToken = (r: Row): StoredToken => ({
  id: String(r.id),
  name: String(r.name),
  role: String(r.role),
  hash: String(r.hash),
  createdAt: Number(r.created_at),
  createdBy: String(r.created_by),
  expiresAt: r.expires_at === null ? null : Number(r.expires_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  environment: r.environment === null || r.environment === undefined ? null : String(r.environment),
});

/** API tokens (their hashes) in the shared database, so every replica authenticates the same tokens. */
export class PostgresTokens implements TokenTable {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async all(): Promise<StoredToken[]> {
    return (await this.#pool.query('SELECT * FROM api_tokens')).rows.map(toToken);
  }

  async insert(t: StoredToken): Promise<void> {
    await this.#pool.query(
      'INSERT INTO api_tokens (id, name, role, hash, created_at, created_by, expires_at, revoked_at, environment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [t.id, t.name, t.role, t.hash, t.createdAt, t.createdBy, t.expiresAt, t.revokedAt, t.environment],
    );
  }

  async revoke(id: string, at: number): Promise<void> {
    await this.#pool.query('UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, at]);
  }
}
