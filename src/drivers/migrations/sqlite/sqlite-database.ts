/** SQLite through node:sqlite: each call opens the file, so nothing holds it between migrations. */
import { existsSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { randomUUID } from 'node:crypto';
import type { MigrationDatabase, ScratchDatabase } from '../types.ts';

function withDb<T>(path: string, fn: (db: DatabaseSync) => T): T {
  // Opening a missing file would create an empty database and migrate that.
  if (!existsSync(path)) throw new Error(`the SQLite database ${path} does not exist`);
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    return fn(db);
  } finally {
    db.close();
  }
}

export class SqliteDatabase implements MigrationDatabase {
  readonly driver = 'sqlite';
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async exec(sql: string): Promise<void> {
    withDb(this.path, (db) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(sql);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async schema(): Promise<string> {
    return withDb(this.path, (db) => {
      const rows = db
        .prepare(
          "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .all() as { type: string; name: string; tbl_name: string; sql: string | null }[];
      return rows.map((r) => `${r.type} ${r.name} on ${r.tbl_name}: ${(r.sql ?? '').replace(/\s+/g, ' ')}`).join('\n');
    });
  }

  async scratch(): Promise<ScratchDatabase> {
    const copy = `${this.path}.rehearsal-${randomUUID().slice(0, 8)}`;
    withDb(this.path, (db) => db.prepare('VACUUM INTO ?').run(copy));
    const scratch = new SqliteDatabase(copy) as SqliteDatabase & ScratchDatabase;
    scratch.drop = async () => {
      for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) rmSync(f, { force: true });
    };
    return scratch;
  }

  commandEnv(): Record<string, string> {
    return { SLUICE_DATABASE_PATH: this.path };
  }
}
