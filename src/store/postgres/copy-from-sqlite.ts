import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { PostgresStore } from './postgres-store.ts';

type Row = Record<string, unknown>;

/** Tables copied as they lie, in this order: the log with its hashes untouched, then what is read from it. */
const TABLES: readonly { name: string; columns: readonly string[] }[] = [
  { name: 'events', columns: ['seq', 'service', 'type', 'at', 'actor', 'body', 'prev_hash', 'hash'] },
  { name: 'audit_head', columns: ['id', 'seq', 'hash'] },
  { name: 'service_states', columns: ['service', 'seq', 'state'] },
  { name: 'releases', columns: ['id', 'service', 'number', 'status', 'started_at', 'ended_at', 'release'] },
  {
    name: 'revisions',
    columns: [
      'service',
      'key',
      'number',
      'version',
      'template_hash',
      'base_dir',
      'file',
      'created_at',
      'created_by',
      'spec',
    ],
  },
  { name: 'services', columns: ['name', 'revision_key', 'base_dir', 'file', 'updated_at', 'spec'] },
  {
    name: 'api_tokens',
    columns: ['id', 'name', 'role', 'hash', 'created_at', 'created_by', 'expires_at', 'revoked_at', 'environment'],
  },
];

/** A copy that would lose or mix data: no source store, or a target that already holds one. */
export class CopyRefused extends Error {}

export interface CopyResult {
  /** Rows copied per table. */
  rows: Record<string, number>;
}

/**
 * Copies a data dir's SQLite store (`<dataDir>/sluice.db`) into an empty PostgreSQL store, row for
 * row in one transaction: the events keep their seqs and hashes, so the chain (and any anchor kept
 * from it) still verifies. Refuses a target that already holds events or services.
 */
export async function copyFromSqlite(dataDir: string, to: PostgresStore): Promise<CopyResult> {
  const path = join(dataDir, 'sluice.db');
  if (!existsSync(path))
    throw new CopyRefused(
      `--from ${dataDir}: no store there (${path} does not exist); name the data dir a sluice server ran with`,
    );
  const source = new DatabaseSync(path, { readOnly: true });
  try {
    const present = new Set(
      (source.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Row[]).map((r) => String(r.name)),
    );
    return await to.transaction(async (c) => {
      const held = await c.query('SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM services) AS n');
      if (Number(held.rows[0].n) > 0)
        throw new CopyRefused(
          `--to ${to.url.replace(/:[^:@/]*@/, ':***@')}: the database already holds a store (events or services); copy into an empty database`,
        );
      const rows: Record<string, number> = {};
      for (const table of TABLES) {
        rows[table.name] = 0;
        if (!present.has(table.name)) continue;
        // A column an older store does not have yet (e.g. a token's environment) is left to its default.
        const have = new Set(
          (source.prepare(`PRAGMA table_info(${table.name})`).all() as Row[]).map((r) => String(r.name)),
        );
        const columns = table.columns.filter((col) => have.has(col));
        const cols = columns.join(', ');
        let batch: unknown[][] = [];
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          const n = columns.length;
          const tuples = batch.map((_, i) => `(${columns.map((__, j) => `$${i * n + j + 1}`).join(', ')})`);
          await c.query(`INSERT INTO ${table.name} (${cols}) VALUES ${tuples.join(', ')}`, batch.flat());
          rows[table.name]! += batch.length;
          batch = [];
        };
        for (const row of source.prepare(`SELECT ${cols} FROM ${table.name}`).iterate() as Iterable<Row>) {
          batch.push(columns.map((col) => row[col] ?? null));
          if (batch.length >= 500) await flush();
        }
        await flush();
      }
      return { rows };
    });
  } finally {
    source.close();
  }
}
