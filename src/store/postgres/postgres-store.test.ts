import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { TestPostgres, withoutPostgres } from '../../../test/support/postgres.ts';
import { emptyState } from '../../core/release/state.ts';
import { storeConformance } from '../conformance.ts';
import { FencedWrite } from '../types.ts';
import { verifyStore } from '../../audit/verify-chain.ts';
import { StoreUnavailable } from './connect.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { PostgresStore } from './postgres-store.ts';

const skip = withoutPostgres();
let server: Promise<TestPostgres> | null = null;
const postgres = (): Promise<TestPostgres> => (server ??= TestPostgres.start());
after(async () => {
  if (server) await (await server).stop();
});

const urls = new WeakMap<object, string>();
async function fresh(): Promise<PostgresStore> {
  const url = await (await postgres()).createDatabase();
  const store = await PostgresStore.open(url);
  urls.set(store, url);
  return store;
}

if (skip) test('postgres store', { skip }, () => undefined);
else {
  storeConformance('postgres', fresh, async (store) => {
    await store.close();
    return PostgresStore.open(urls.get(store)!);
  });

  test('postgres: replicas starting at once migrate the schema once, under the advisory lock', async () => {
    const url = await (await postgres()).createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url)));
    try {
      assert.deepEqual(stores.map((s) => s.migrated.applied.length).sort(), [0, 0, SCHEMA_VERSION]);
      const again = await PostgresStore.open(url);
      assert.deepEqual(again.migrated, { from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });
      await again.close();
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('postgres: a schema newer than this binary is refused, naming both versions', async () => {
    const store = await fresh();
    await store.pool.query(
      `INSERT INTO sluice_schema (version, name, applied_at) VALUES (${SCHEMA_VERSION + 5}, 'from the future', 0)`,
    );
    const url = urls.get(store)!;
    await store.close();
    await assert.rejects(PostgresStore.open(url), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(
          `schema is version ${SCHEMA_VERSION + 5}, newer than this sluice knows \\(version ${SCHEMA_VERSION}\\)`,
        ),
      );
      return true;
    });
  });

  test('postgres: an unreachable or read-only database is named, and says whether waiting helps', async () => {
    const pgServer = await postgres();
    const url = await pgServer.createDatabase();
    await assert.rejects(PostgresStore.open(url.replace(`:${pgServer.port}/`, ':1/')), (err: StoreUnavailable) => {
      assert.ok(err instanceof StoreUnavailable);
      assert.match(
        err.message,
        /cannot reach PostgreSQL at postgres:\/\/sluice@127\.0\.0\.1:1\/\S+: connection refused/,
      );
      assert.equal(err.retry, true);
      return true;
    });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const db = new URL(url).pathname.slice(1);
    await admin.query(`ALTER DATABASE ${db} SET default_transaction_read_only = on`);
    await admin.end();
    await assert.rejects(
      PostgresStore.open(url),
      /is read-only \(a standby, or default_transaction_read_only\): sluice needs a writable primary/,
    );
    await assert.rejects(
      PostgresStore.open('mysql://x@y/z'),
      /--store "mysql:\/\/x@y\/z" is not a PostgreSQL URL; write postgres:\/\/USER@HOST:PORT\/DATABASE/,
    );
  });

  test('postgres: a write under a stale epoch is refused in the same transaction; the log is unchanged', async (t) => {
    const store = await fresh();
    t.after(() => store.close());
    const a = await store.leases.claim('checkout', 'a', 2000, null);
    assert.deepEqual({ holder: a!.holder, epoch: a!.epoch }, { holder: 'a', epoch: 1 });
    assert.equal(await store.leases.claim('checkout', 'b', 2000, null), null, 'a live lease is not taken');
    await store.commit('checkout', [{ type: 'service.recovered', at: 1, actor: 'x' }], emptyState('checkout'), {
      holder: 'a',
      epoch: 1,
    });
    // a's lease lapses; b takes it with the next epoch
    await store.pool.query('UPDATE leases SET expires_at = 0');
    const b = await store.leases.claim('checkout', 'b', 2000, null);
    assert.deepEqual({ holder: b!.holder, epoch: b!.epoch }, { holder: 'b', epoch: 2 });
    await assert.rejects(
      store.commit(
        'checkout',
        [{ type: 'service.degraded', reason: 'late', at: 2, actor: 'x' }],
        emptyState('checkout'),
        { holder: 'a', epoch: 1 },
      ),
      (err: FencedWrite) => {
        assert.ok(err instanceof FencedWrite);
        assert.match(
          err.message,
          /a wrote checkout's events under epoch 1, but the lease is at epoch 2, held by b: the write was refused/,
        );
        return true;
      },
    );
    assert.deepEqual(
      (await store.events({})).map((e) => e.type),
      ['service.recovered'],
    );
    assert.equal(await store.leases.claim('checkout', 'a', 2000, 1), null, 'the old holder cannot renew what it lost');
    const renewed = await store.leases.claim('checkout', 'b', 2000, 2);
    assert.equal(renewed!.epoch, 2, 'a renewal keeps the epoch');
  });

  test('postgres: a replica id held by a live process is refused to another', async (t) => {
    const store = await fresh();
    t.after(() => store.close());
    assert.equal(await store.leases.heartbeat('a', 'pid-1', null, 2000), true);
    assert.equal(await store.leases.heartbeat('a', 'pid-2', null, 2000), false);
    assert.equal(await store.leases.heartbeat('a', 'pid-1', null, 2000), true);
    assert.deepEqual(await store.leases.replicas(2000), ['a']);
  });

  test('postgres: a commit wakes every listener with the service it wrote', async (t) => {
    const store = await fresh();
    t.after(() => store.close());
    const woken: string[] = [];
    const stop = await store.leases.listen((s) => woken.push(s));
    await store.commit('checkout', [{ type: 'service.recovered', at: 1, actor: 'x' }], emptyState('checkout'));
    for (let i = 0; i < 50 && !woken.includes('checkout'); i++) await new Promise((r) => setTimeout(r, 20));
    await stop();
    assert.ok(woken.includes('checkout'), JSON.stringify(woken));
  });
}

if (!skip) {
  test('postgres: commits written together in one transaction: a stale fence refuses that commit only', async (t) => {
    const store = await fresh();
    t.after(() => store.close());
    await store.leases.claim('a', 'x', 60_000, null);
    const results = await Promise.allSettled([
      store.commit('b', [{ type: 'service.recovered', at: 1, actor: 'x' }], emptyState('b')),
      store.commit('a', [{ type: 'service.degraded', reason: 'stale', at: 2, actor: 'x' }], emptyState('a'), {
        holder: 'x',
        epoch: 0,
      }),
      store.commit('a', [{ type: 'service.recovered', at: 3, actor: 'x' }], emptyState('a'), { holder: 'x', epoch: 1 }),
      store.commit('b', [{ type: 'service.recovered', at: 4, actor: 'x' }], emptyState('b')),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof FencedWrite);
    assert.deepEqual(
      (await store.events({})).map((e) => `${e.seq} ${e.service} ${e.at}`),
      ['1 b 1', '2 a 3', '3 b 4'],
    );
    assert.equal((await verifyStore(store)).ok, true);
  });

  test('postgres: a connection the database ends mid-transaction fails that write only; the store goes on', async (t) => {
    const store = await fresh();
    t.after(() => store.close());
    const write = store.transaction(async (c) => {
      const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await store.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await new Promise((r) => setTimeout(r, 200)); // the FATAL arrives while the client is checked out
      await c.query('SELECT 1');
    });
    await assert.rejects(write, /terminat|Connection terminated/i);
    await store.commit('checkout', [{ type: 'service.recovered', at: 1, actor: 'x' }], emptyState('checkout'));
    assert.equal((await store.events({ service: 'checkout' })).length, 1);
  });
}
