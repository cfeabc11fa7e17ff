import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyState, RELEASE_DEFAULTS, type ServiceState } from '../core/release/state.ts';
import { eventHash, GENESIS_HASH } from './event-hash.ts';
import type { Store, StoredRevision } from './types.ts';

/**
 * The conformance suite every Store implementation runs: embedded SQLite, in-memory and PostgreSQL.
 * `open` gives a fresh, empty store; `reopen` (optional) opens the same storage again.
 */
export function storeConformance(
  name: string,
  open: () => Promise<Store>,
  reopen?: (s: Store) => Promise<Store>,
): void {
  const state = (service: string, patch: Partial<ServiceState> = {}): ServiceState => ({
    ...emptyState(service),
    ...patch,
  });
  const revision = (n: number): StoredRevision => ({
    service: 'checkout',
    key: String(n),
    number: n,
    version: `${n}.0.0`,
    spec: { spec: { version: `${n}.0.0` } },
    templateHash: `h${n}`,
    baseDir: '/srv',
    file: 'checkout.yaml',
    createdAt: 1000 + n,
    createdBy: 'alice',
  });

  test(`${name}: events get increasing sequence numbers and read back in order, filtered`, async (t) => {
    const store = await open();
    t.after(() => store.close());
    const a = await store.commit(
      'a',
      [
        { type: 'service.recovered', at: 1, actor: 'x' },
        { type: 'service.degraded', reason: 'r', at: 2, actor: 'y' },
      ],
      state('a'),
    );
    const b = await store.commit('b', [{ type: 'service.recovered', at: 3, actor: 'z' }], state('b'));
    assert.ok(a[0]!.seq < a[1]!.seq && a[1]!.seq < b[0]!.seq);
    const all = await store.events({});
    assert.deepEqual(
      all.map((e) => e.type),
      ['service.recovered', 'service.degraded', 'service.recovered'],
    );
    assert.deepEqual(all[1], {
      type: 'service.degraded',
      reason: 'r',
      service: 'a',
      at: 2,
      actor: 'y',
      seq: a[1]!.seq,
    });
    assert.equal((await store.events({ service: 'b' })).length, 1);
    assert.equal((await store.events({ afterSeq: a[1]!.seq })).length, 1);
    assert.equal((await store.events({ since: 2 })).length, 2);
    assert.equal((await store.events({ limit: 1 })).length, 1);
  });

  test(`${name}: commit projects the service state and its release`, async (t) => {
    const store = await open();
    t.after(() => store.close());
    const release = {
      id: 'checkout#1',
      number: 1,
      kind: 'deploy' as const,
      from: null,
      to: { key: '1', version: '1.0.0' },
      steps: [],
      contract: {
        intervalMs: 1,
        windowMs: 1,
        minSamples: 1,
        consecutive: 1,
        failureLimit: null,
        maxInconclusiveMs: 1,
        metricsErrors: { limit: 3, action: 'pause' as const },
        rules: [],
      },
      status: 'Succeeded' as const,
      startedAt: 5,
      startedBy: 'alice',
      endedAt: 9,
      stepIndex: 0,
      stepStartedAt: 5,
      pause: null,
      completing: false,
      rules: {},
      analysedAt: null,
      rollback: null,
      error: null,
      ...RELEASE_DEFAULTS,
    };
    await store.commit(
      'checkout',
      [{ type: 'release.succeeded', stable: release.to, at: 9, actor: 'c' }],
      state('checkout', { release }),
    );
    const [s] = await store.states();
    assert.equal(s!.service, 'checkout');
    assert.equal(s!.release!.status, 'Succeeded');
    assert.ok(s!.seq > 0);
    assert.deepEqual(await store.releases('checkout'), [release]);
    assert.deepEqual(await store.releases('other'), []);
  });

  test(`${name}: revisions are stored once and listed in order`, async (t) => {
    const store = await open();
    t.after(() => store.close());
    await store.putRevision(revision(2));
    await store.putRevision(revision(1));
    await assert.rejects(store.putRevision(revision(1)));
    assert.deepEqual(
      (await store.revisions('checkout')).map((r) => r.key),
      ['1', '2'],
    );
    assert.deepEqual(await store.revision('checkout', '2'), revision(2));
    assert.equal(await store.revision('checkout', '9'), null);
  });

  test(`${name}: services are upserted, listed and deleted`, async (t) => {
    const store = await open();
    t.after(() => store.close());
    const svc = { name: 'checkout', spec: { a: 1 }, baseDir: '/srv', file: null, revisionKey: '1', updatedAt: 1 };
    await store.putService(svc);
    await store.putService({ ...svc, revisionKey: '2', updatedAt: 2 });
    assert.deepEqual(await store.service('checkout'), { ...svc, revisionKey: '2', updatedAt: 2 });
    assert.equal((await store.services()).length, 1);
    await store.deleteService('checkout');
    assert.equal(await store.service('checkout'), null);
  });

  test(`${name}: every event is chained to the one before by its hash, and the head is the last`, async (t) => {
    const store = await open();
    t.after(() => store.close());
    assert.equal(await store.chainHead(), null);
    await store.commit(
      'a',
      [
        { type: 'service.recovered', at: 1, actor: 'x' },
        { type: 'service.degraded', reason: 'r', at: 2, actor: 'y' },
      ],
      state('a'),
    );
    await store.commit('b', [{ type: 'service.recovered', at: 3, actor: 'z' }], state('b'));
    const events = await store.events({});
    const rows = await store.chain({});
    assert.deepEqual(
      rows.map((r) => r.seq),
      events.map((e) => e.seq),
    );
    let prev = GENESIS_HASH;
    for (const [i, row] of rows.entries()) {
      assert.equal(row.prevHash, prev);
      assert.equal(row.hash, eventHash(prev, events[i]!), 'the hash covers the event exactly as it reads back');
      prev = row.hash!;
    }
    assert.deepEqual(await store.chainHead(), { seq: rows.at(-1)!.seq, hash: prev });
    assert.deepEqual(
      (await store.chain({ afterSeq: rows[0]!.seq, limit: 1 })).map((r) => r.seq),
      [rows[1]!.seq],
    );
  });

  test(`${name}: commits made at once are chained one after another, none lost`, async (t) => {
    const store = await open();
    t.after(() => store.close());
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        store.commit(
          `s${i % 3}`,
          [
            { type: 'service.recovered', at: i, actor: 'x' },
            { type: 'service.degraded', reason: String(i), at: i, actor: 'x' },
          ],
          state(`s${i % 3}`),
        ),
      ),
    );
    const rows = await store.chain({});
    assert.deepEqual(
      rows.map((r) => r.seq),
      Array.from({ length: 24 }, (_, i) => i + 1),
    );
    for (const [i, row] of rows.entries()) assert.equal(row.prevHash, i === 0 ? GENESIS_HASH : rows[i - 1]!.hash);
    assert.equal((await store.states()).length, 3);
    assert.deepEqual(
      (await store.states(['s2', 's0', 'nothing'])).map((s) => s.service),
      ['s0', 's2'],
      'the states of the services named, those that have one',
    );
    assert.deepEqual(await store.states([]), []);
  });

  test(`${name}: a deleted service leaves its history: events, revisions and releases stay`, async (t) => {
    const store = await open();
    t.after(() => store.close());
    await store.putService({ name: 'checkout', spec: {}, baseDir: '/', file: null, revisionKey: '1', updatedAt: 1 });
    await store.putRevision(revision(1));
    await store.commit('checkout', [{ type: 'service.deleted', at: 5, actor: 'alice' }], state('checkout'));
    await store.deleteService('checkout');
    assert.deepEqual(await store.services(), []);
    assert.deepEqual(await store.states(), []);
    assert.equal((await store.events({ service: 'checkout' })).length, 1);
    assert.equal((await store.revisions('checkout')).length, 1);
  });

  if (reopen) {
    test(`${name}: what was committed survives a reopen`, async () => {
      const store = await open();
      await store.commit('a', [{ type: 'service.recovered', at: 1, actor: 'x' }], state('a'));
      const again = await reopen(store);
      try {
        assert.equal((await again.events({})).length, 1);
        assert.equal((await again.states()).length, 1);
      } finally {
        await again.close();
      }
    });
  }
}
