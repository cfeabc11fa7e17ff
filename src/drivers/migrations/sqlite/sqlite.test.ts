import { mkdtempSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationDriverConformance } from '../conformance.ts';
import type { MigrationDatabase } from '../types.ts';
import { SqliteDatabase } from './sqlite-database.ts';

migrationDriverConformance('sqlite', {
  async fresh() {
    const path = join(mkdtempSync(join(tmpdir(), 'sluice-sqlite-')), 'app.db');
    const db = new DatabaseSync(path);
    db.exec(
      "CREATE TABLE users (id integer primary key, name text); INSERT INTO users (name) VALUES ('a'), ('b'), ('c');",
    );
    db.close();
    return new SqliteDatabase(path);
  },
  async count(db: MigrationDatabase, table: string) {
    const d = new DatabaseSync((db as SqliteDatabase).path);
    try {
      return Number((d.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    } finally {
      d.close();
    }
  },
});
