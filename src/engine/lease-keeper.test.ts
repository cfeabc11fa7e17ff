import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { TestPostgres, withoutPostgres } from '../../test/support/postgres.ts';
import { LEASE_TIMINGS } from '../core/leases/lease-plan.ts';
import { PostgresStore } from '../store/postgres/store-admin.ts';
import { LeaseKeeper } from './lease-keeper.ts';

const skip = withoutPostgres();
let server: TestPostgres | null = null;
after(async () => server?.stop());

function keeper(store: PostgresStore, replica: string, seen: string[]): LeaseKeeper {
  return new LeaseKeeper({
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
