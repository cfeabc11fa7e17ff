import { after, before } from 'node:test';
import pg from 'pg';
import { startPostgres, withoutPostgres, type PostgresServer } from '../../../../test/support/postgres-server.ts';
import { migrationDriverConformance } from '../conformance.ts';
import type { MigrationDatabase } from '../types.ts';
import { PostgresDatabase } from './postgres-database.ts';

const skip = withoutPostgres();
let server: PostgresServer | null = null;
let n = 0;
const urls = new WeakMap<MigrationDatabase, string>();

before(async () => {
  if (!skip) server = await startPostgres();
});
after(async () => server?.stop());

migrationDriverConformance('postgres', {
  skip,
  async fresh() {
    const name = `app${++n}`;
    await server!.createDatabase(name);
    await server!.query(
      "CREATE TABLE users (id integer primary key, name text); INSERT INTO users VALUES (1, 'a'), (2, 'b'), (3, 'c');",
      name,
    );
    const db = new PostgresDatabase(server!.urlOf(name));
    urls.set(db, server!.urlOf(name));
    return db;
  },
  async count(db: MigrationDatabase, table: string) {
    // A scratch copy carries its own URL in its command environment.
    const url = urls.get(db) ?? db.commandEnv().SLUICE_DATABASE_URL!;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    } finally {
      await c.end();
    }
  },
});
