import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { TestPostgres, withoutPostgres } from '../../test/support/postgres.ts';
import { LEASE_TIMINGS } from '../core/leases/lease-plan.ts';
import { PostgresStore } from '../store/postgres/store-admin.ts';
import { QUERY_TIMEOUT_MS } from '../store/postgres/connect.ts';
import { blackholeRelay } from '../../test/support/blackhole-relay.ts';
import { LeaseKeeper } from './lease-keeper.ts';

const skip = withoutPostgres();
let server: TestPostgres | null = null;
after(async () => server?.stop());

function keeper(store: PostgresStore, replica: string, seen: string[], also?: () => string[]): LeaseKeeper {
  return new LeaseKeeper({
    ...(also !== undefined && { also }),
    replica,
    instance: `${replica}-${Math.random()}`,
    url: null,
    store,
    leases: store.leases,
    log: pino({ level: 'silent' }),
    now: Date.now,
    gained: async (service, epoch) => {
      seen.push(`${replica} gained ${service} ${epoch}`);
    },
    lost: async (service) => {
      seen.push(`${replica} lost ${service}`);
    },
  });
}

test(
  'a replica that loses the database stops acting at its own deadline, and takes its services again when the database is back',
  { skip, timeout: 60_000 },
  async () => {
    server = await TestPostgres.start();
    const url = await server.createDatabase();
    const store = await PostgresStore.open(url);
    await store.putService({ name: 'checkout', spec: {}, baseDir: '/', file: null, revisionKey: '1', updatedAt: 0 });
    const seen: string[] = [];
    const a = keeper(store, 'a', seen);
    await a.start();
    const fence = a.fence('checkout')!;
    assert.deepEqual(fence, { holder: 'a', epoch: 1 });
    assert.equal(a.mayAct('checkout', 1), true);

    await server.pause();
    const lostAt = Date.now();
    while (a.mayAct('checkout', 1) && Date.now() - lostAt < 10_000) await sleep(20);
    const stoppedAfter = Date.now() - lostAt;
    assert.ok(
      stoppedAfter <= LEASE_TIMINGS.ttlMs,
      `stopped acting ${stoppedAfter} ms after the database went away (ttl ${LEASE_TIMINGS.ttlMs} ms)`,
    );
    for (let i = 0; i < 100 && !seen.includes('a lost checkout'); i++) await sleep(50);
    assert.ok(seen.includes('a lost checkout'), seen.join('; '));

    await server.resume();
    for (let i = 0; i < 200 && a.fence('checkout') === null; i++) await sleep(50);
    assert.deepEqual(a.fence('checkout'), { holder: 'a', epoch: 2 }, 'taken again, under a new epoch');
    assert.equal(a.mayAct('checkout', 1), false, 'the old epoch never acts again');
    assert.equal(a.mayAct('checkout', 2), true);
    await a.close();
    assert.deepEqual(seen, ['a gained checkout 1', 'a lost checkout', 'a gained checkout 2', 'a lost checkout']);
    const [lease] = await store.leases.leases();
    assert.equal(lease!.expiresAt, 0, 'a clean stop gives the lease up for the next replica at once');
    await store.close();
  },
);

test(
  'a replica whose database drops its packets (no error, no answer) gives its services up, and takes them again once they flow',
  { skip, timeout: 60_000 },
  async (t) => {
    server ??= await TestPostgres.start();
    const direct = await server.createDatabase();
    const relay = await blackholeRelay({ host: '127.0.0.1', port: server.port });
    t.after(() => relay.close());
    const store = await PostgresStore.open(direct.replace(`:${server.port}/`, `:${relay.port}/`));
    await store.putService({ name: 'checkout', spec: {}, baseDir: '/', file: null, revisionKey: '1', updatedAt: 0 });
    const seen: string[] = [];
    const a = keeper(store, 'a', seen);
    await a.start();
    assert.deepEqual(a.fence('checkout'), { holder: 'a', epoch: 1 });

    relay.drop(true);
    const cutAt = Date.now();
    while (a.mayAct('checkout', 1) && Date.now() - cutAt < 10_000) await sleep(20);
    assert.ok(Date.now() - cutAt <= LEASE_TIMINGS.ttlMs, 'stopped acting within the lease');
    // Its queries get no answer: without a bound on them it would hang here, holding its controllers.
    while (!seen.includes('a lost checkout') && Date.now() - cutAt < 20_000) await sleep(50);
    const gaveUpMs = Date.now() - cutAt;
    assert.ok(seen.includes('a lost checkout'), `gave the service up (${seen.join('; ')})`);
    assert.ok(
      gaveUpMs <= LEASE_TIMINGS.ttlMs + QUERY_TIMEOUT_MS + 1500,
      `gave it up ${gaveUpMs} ms after the packets stopped (a query is given up after ${QUERY_TIMEOUT_MS} ms)`,
    );

    relay.drop(false);
    const healedAt = Date.now();
    while (a.fence('checkout') === null && Date.now() - healedAt < 20_000) await sleep(50);
    assert.deepEqual(a.fence('checkout'), { holder: 'a', epoch: 2 }, 'taken again, under a new epoch');
    assert.ok(
      Date.now() - healedAt <= QUERY_TIMEOUT_MS + 2000,
      `back ${Date.now() - healedAt} ms after the packets flowed`,
    );
    await a.close();
    await store.close();
  },
);

test(
  "one live replica leads the server's duties (the weekly notices); when it stops, the next one does",
  { skip, timeout: 60_000 },
  async () => {
    server ??= await TestPostgres.start();
    const store = await PostgresStore.open(await server.createDatabase());
    const b = keeper(store, 'b', []);
    const a = keeper(store, 'a', []);
    await b.start();
    await a.start();
    assert.deepEqual([await a.leadsServerDuties(), await b.leadsServerDuties()], [true, false], 'the lowest id leads');
    await a.close();
    assert.equal(await a.leadsServerDuties(), false, 'a stopped replica leads nothing');
    const stoppedAt = Date.now();
    while (!(await b.leadsServerDuties()) && Date.now() - stoppedAt < 10_000) await sleep(100);
    const after = Date.now() - stoppedAt;
    assert.ok(
      after <= LEASE_TIMINGS.ttlMs + 1000,
      `b leads ${after} ms after a stopped (ttl ${LEASE_TIMINGS.ttlMs} ms)`,
    );
    await b.close();
    await store.close();
  },
);

test(
  "a lease besides services' (a running train's, `also`) is taken by one replica; cut off from the database, it stops acting at its deadline and the other takes it",
  { skip, timeout: 60_000 },
  async (t) => {
    server ??= await TestPostgres.start();
    const direct = await server.createDatabase();
    const relay = await blackholeRelay({ host: '127.0.0.1', port: server.port });
    t.after(() => relay.close());
    const viaRelay = await PostgresStore.open(direct.replace(`:${server.port}/`, `:${relay.port}/`));
    const store = await PostgresStore.open(direct);
    const train = () => ['_train:spring'];
    const seen: string[] = [];
    const a = keeper(viaRelay, 'a', seen, train);
    const b = keeper(store, 'b', seen, train);
    await a.start();
    await b.start();
    assert.deepEqual(a.fence('_train:spring'), { holder: 'a', epoch: 1 }, 'the first replica up takes it');
    assert.equal(b.fence('_train:spring'), null, 'one replica at a time');

    relay.drop(true);
    const cutAt = Date.now();
    while (a.mayAct('_train:spring', 1) && Date.now() - cutAt < 10_000) await sleep(20);
    const stoppedMs = Date.now() - cutAt;
    assert.ok(stoppedMs <= LEASE_TIMINGS.ttlMs, `a stopped acting ${stoppedMs} ms after the cut`);
    while (b.fence('_train:spring') === null && Date.now() - cutAt < 15_000) await sleep(20);
    const takenMs = Date.now() - cutAt;
    assert.deepEqual(b.fence('_train:spring'), { holder: 'b', epoch: 2 }, `b took it ${takenMs} ms after the cut`);
    assert.ok(takenMs <= 2 * LEASE_TIMINGS.ttlMs + 1000, `b took it ${takenMs} ms after the cut`);
    assert.equal(a.mayAct('_train:spring', 1), false, 'a never acts under the old epoch again');

    relay.drop(false);
    await b.close();
    await a.close();
    await viaRelay.close();
    await store.close();
  },
);
