/**
 * PostgreSQL through `pg`. Each call opens its own connection and closes it, so no connection of
 * Sluice's stands in the way of CREATE DATABASE … TEMPLATE (which needs the source unused). While the
 * application holds connections to it — a live service — the copy is a dump restored instead
 * (dump-copy.ts).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { MigrationDatabase, ScratchDatabase } from '../types.ts';
import { dumpInto } from './dump-copy.ts';

/** SQLSTATE 55006 object_in_use: "source database … is being accessed by other users". */
const SOURCE_IN_USE = '55006';

const SCHEMA_SQL = `
SELECT 'column ' || c.table_name || '.' || c.column_name || ' ' || c.data_type || CASE WHEN c.is_nullable = 'NO' THEN ' not null' ELSE '' END || COALESCE(' default ' || c.column_default, '') AS line
  FROM information_schema.columns c WHERE c.table_schema = 'public'
UNION ALL
SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass::text || '.' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'table ' || table_name || ' ' || table_type FROM information_schema.tables WHERE table_schema = 'public'
ORDER BY 1`;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // A connection the database ends mid-query fails that query; unheard, the error would end the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

export class PostgresDatabase implements MigrationDatabase {
  readonly driver = 'postgres';
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  async exec(sql: string): Promise<void> {
    await withClient(this.#url, async (c) => {
      await c.query('BEGIN');
      try {
        await c.query(sql);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async schema(): Promise<string> {
    return withClient(this.#url, async (c) =>
      (await c.query<{ line: string }>(SCHEMA_SQL)).rows.map((r) => r.line).join('\n'),
    );
  }

  async scratch(): Promise<ScratchDatabase> {
    const url = new URL(this.#url);
    const source = decodeURIComponent(url.pathname.slice(1));
    const name = `sluice_rehearsal_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const admin = new URL(this.#url);
    admin.pathname = '/postgres';
    const copyUrl = new URL(this.#url);
    copyUrl.pathname = `/${name}`;
    const drop = async () => {
      await withClient(admin.toString(), (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    };
    try {
      await withClient(admin.toString(), (c) =>
        c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(source)}`),
      );
    } catch (err) {
      if ((err as { code?: unknown }).code !== SOURCE_IN_USE) throw err;
      await withClient(admin.toString(), (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
      try {
        await dumpInto(this.#url, copyUrl.toString());
      } catch (copyErr) {
        await drop().catch(() => undefined);
        throw copyErr;
      }
    }
    const scratch = new PostgresDatabase(copyUrl.toString()) as PostgresDatabase & ScratchDatabase;
    scratch.drop = drop;
    return scratch;
  }

  commandEnv(): Record<string, string> {
    return { SLUICE_DATABASE_URL: this.#url };
  }
}
