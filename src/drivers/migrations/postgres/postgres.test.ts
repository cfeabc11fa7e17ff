import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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

test(
  'a copy while the application holds connections to the database: a dump restored, data and schema alike',
  {
    skip,
  },
  async () => {
    await server!.createDatabase('live');
    await server!.query(
      'CREATE TABLE orders (id integer primary key, total numeric not null default 0); INSERT INTO orders SELECT g, g * 2 FROM generate_series(1, 1000) g; CREATE INDEX orders_total ON orders (total);',
      'live',
    );
    const app = new pg.Client({ connectionString: server!.urlOf('live') });
    await app.connect();
    try {
      const db = new PostgresDatabase(server!.urlOf('live'));
      const scratch = await db.scratch();
      try {
        assert.equal(await scratch.schema(), await db.schema());
        const copy = new pg.Client({ connectionString: scratch.commandEnv().SLUICE_DATABASE_URL! });
        await copy.connect();
        const sum = (await copy.query<{ s: string }>('SELECT sum(total) AS s FROM orders')).rows[0]!.s;
        await copy.end();
        assert.equal(sum, String(1000 * 1001));
        await scratch.exec('ALTER TABLE orders ADD COLUMN note text');
        assert.doesNotMatch(await db.schema(), /orders\.note/, 'the source is untouched');
      } finally {
        await scratch.drop();
      }
    } finally {
      await app.end();
    }
  },
);
