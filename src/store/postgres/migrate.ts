import type pg from 'pg';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';

/** The advisory lock every replica takes to migrate, so two starting at once never both migrate. */
const MIGRATE_LOCK = 0x51_1c_e0_01;

export interface MigrateResult {
  from: number;
  to: number;
  applied: number[];
}

/** A database whose schema this binary cannot use. */
export class SchemaTooNew extends Error {
  readonly found: number;

  constructor(found: number) {
    super(
      `the database's schema is version ${found}, newer than this sluice knows (version ${SCHEMA_VERSION}): upgrade sluice to the version that migrated it, or point --store at another database`,
    );
    this.found = found;
  }
}

/** The schema version recorded in the database (0: none yet). */
export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query(`SELECT to_regclass('sluice_schema') IS NOT NULL AS present`);
  if (exists.rows[0].present !== true) return 0;
  const r = await client.query('SELECT COALESCE(MAX(version), 0) AS v FROM sluice_schema');
  return Number(r.rows[0].v);
}

/**
 * Brings the schema to this binary's version under an advisory lock, each migration in its own
 * transaction; refuses a schema newer than the binary (SchemaTooNew), naming both versions.
 */
export async function migrate(client: pg.ClientBase, now: number): Promise<MigrateResult> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS sluice_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const from = await schemaVersion(client);
    if (from > SCHEMA_VERSION) throw new SchemaTooNew(from);
    const applied: number[] = [];
    for (const m of MIGRATIONS.filter((m) => m.version > from)) {
      await client.query('BEGIN');
      try {
        for (const sql of m.sql) await client.query(sql);
        await client.query('INSERT INTO sluice_schema (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          now,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`schema migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.version);
    }
    return { from, to: SCHEMA_VERSION, applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
  }
}
