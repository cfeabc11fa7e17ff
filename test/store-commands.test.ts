/**
 * `sluice store migrate` and `sluice store copy` against a real PostgreSQL: a data dir's SQLite
 * store, written by the store itself, is copied row for row and its hash chain verifies in
 * PostgreSQL; a second copy into the same database and a schema from a newer sluice are refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TokenStore } from '../src/auth/token-store.ts';
import { emptyState } from '../src/core/release/state.ts';
import { PostgresStore } from '../src/store/postgres/store-admin.ts';
import { SCHEMA_VERSION } from '../src/store/postgres/migrations.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { TestPostgres, withoutPostgres } from './support/postgres.ts';
import { CLI } from './support/sluice.ts';

const skip = withoutPostgres();
let server: TestPostgres | null = null;
after(async () => server?.stop());

const sluice = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

test(
  'store copy moves a SQLite store into PostgreSQL with its chain intact; store migrate reports the schema',
  { skip, timeout: 90_000 },
  async (t) => {
    server = await TestPostgres.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-copy-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const sqlite = new SqliteStore(join(dataDir, 'sluice.db'));
    for (let i = 0; i < 300; i++)
      await sqlite.commit(
        `svc${i % 7}`,
        [{ type: 'service.degraded', reason: `r${i}`, at: 1000 + i, actor: 'alice' }],
        emptyState(`svc${i % 7}`),
      );
    await sqlite.putService({
      name: 'svc0',
      spec: { a: 1 },
      baseDir: '/srv',
      file: null,
      revisionKey: '1',
      updatedAt: 1,
    });
    const head = await sqlite.chainHead();
    await sqlite.close();
    const tokens = new TokenStore(join(dataDir, 'sluice.db'));
    tokens.create({ name: 'ci', role: 'deployer', createdBy: 'alice', now: 1, ttlMs: null });
    tokens.close();

    const url = await server.createDatabase();
    const migrated = sluice('store', 'migrate', '--store', url);
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.equal(
      migrated.stdout.trim(),
      `schema migrated from version 0 to ${SCHEMA_VERSION} (applied ${Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1).join(', ')})`,
    );
    assert.equal(
      sluice('store', 'migrate', '--store', url).stdout.trim(),
      `schema at version ${SCHEMA_VERSION}: nothing to migrate`,
    );

    const copied = sluice('store', 'copy', '--from', dataDir, '--to', url);
    assert.equal(copied.status, 0, copied.stderr);
    assert.match(
      copied.stdout,
      /copied 300 events, 1 audit_head, 7 service_states, 0 releases, 0 revisions, 1 services, 1 api_tokens/,
    );
    assert.match(
      copied.stdout,
      new RegExp(`audit trail intact in PostgreSQL: 300 events chained; head ${head!.seq}:${head!.hash}`),
    );

    const pg = await PostgresStore.open(url);
    t.after(() => pg.close());
    assert.deepEqual(await pg.chainHead(), head);
    assert.equal((await pg.events({ service: 'svc3' })).length, 43);

    const again = sluice('store', 'copy', '--from', dataDir, '--to', url);
    assert.equal(again.status, 1);
    assert.match(
      again.stderr,
      /sluice store: --to postgres:\/\/sluice@127\.0\.0\.1:\d+\/\S+: the database already holds a store \(events or services\); copy into an empty database/,
    );
    const missing = sluice('store', 'copy', '--from', join(dataDir, 'nope'), '--to', url);
    assert.match(missing.stderr, /--from .*nope: no store there \(.*sluice\.db does not exist\)/);

    await pg.pool.query(
      `INSERT INTO sluice_schema (version, name, applied_at) VALUES (${SCHEMA_VERSION + 1}, 'next', 0)`,
    );
    const newer = sluice('store', 'migrate', '--store', url);
    assert.equal(newer.status, 1);
    assert.match(
      newer.stderr,
      new RegExp(
        `the database's schema is version ${SCHEMA_VERSION + 1}, newer than this sluice knows \\(version ${SCHEMA_VERSION}\\)`,
      ),
    );

    const down = sluice('store', 'migrate', '--store', `postgres://sluice@127.0.0.1:1/x`);
    assert.equal(down.status, 3);
    assert.match(down.stderr, /cannot reach PostgreSQL at postgres:\/\/sluice@127\.0\.0\.1:1\/x: connection refused/);
  },
);
