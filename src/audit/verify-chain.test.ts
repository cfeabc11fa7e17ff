import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { emptyState } from '../core/release/state.ts';
import { eventHash } from '../store/event-hash.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { verifyStore } from './verify-chain.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A store file with `count` events (seq 1..count), and a raw handle on the same file to tamper with. */
async function log(count: number): Promise<{ store: SqliteStore; db: DatabaseSync; path: string }> {
  const path = join(dir, `log-${++n}.db`);
  const store = new SqliteStore(path);
  for (let i = 1; i <= count; i++)
    await store.commit(
      'checkout',
      [{ type: 'service.degraded', reason: `reason ${i}`, at: 1000 + i, actor: 'alice' }],
      emptyState('checkout'),
    );
  return { store, db: new DatabaseSync(path), path };
}

test('an untouched log verifies, in pages, with its head', async (t) => {
  const { store, db } = await log(25);
  t.after(() => (db.close(), store.close()));
  const r = await verifyStore(store, { pageSize: 7 });
  assert.equal(r.ok, true);
  assert.equal(r.checked, 25);
  assert.equal(r.head!.seq, 25);
  assert.equal((await verifyStore(store, { anchor: r.head })).ok, true);
});

test('one flipped byte in a past event is found and named', async (t) => {
  const { store, db } = await log(10);
  t.after(() => (db.close(), store.close()));
  const { body } = db.prepare('SELECT body FROM events WHERE seq = 4').get() as { body: string };
  const i = body.indexOf('reason 4') + 1;
  db.prepare('UPDATE events SET body = ? WHERE seq = 4').run(
    body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) + body.slice(i + 1),
  );
  const r = await verifyStore(store);
  assert.equal(r.ok, false);
  assert.equal(r.firstBad!.seq, 4);
  assert.match(r.firstBad!.reason, /event 4 \(service\.degraded, checkout\) was changed after it was written/);
  assert.equal(r.checked, 3);
});

test('an edited actor or time column is found; so is a body that is no longer JSON', async (t) => {
  const { store, db } = await log(6);
  t.after(() => (db.close(), store.close()));
  db.prepare("UPDATE events SET actor = 'mallory' WHERE seq = 2").run();
  assert.equal((await verifyStore(store)).firstBad!.seq, 2);
  db.prepare("UPDATE events SET actor = 'alice' WHERE seq = 2").run();
  db.prepare('UPDATE events SET at = at + 1 WHERE seq = 3').run();
  assert.equal((await verifyStore(store)).firstBad!.seq, 3);
  db.prepare('UPDATE events SET at = at - 1 WHERE seq = 3').run();
  db.prepare(`UPDATE events SET body = '{"type":"service.degr' WHERE seq = 5`).run();
  assert.match((await verifyStore(store)).firstBad!.reason, /event 5 was changed: its body is no longer JSON/);
});

test('a deleted event is found, in the middle or at the end of the log', async (t) => {
  const { store, db } = await log(8);
  t.after(() => (db.close(), store.close()));
  db.prepare('DELETE FROM events WHERE seq = 8').run();
  const tail = await verifyStore(store);
  assert.deepEqual(tail.firstBad, { seq: 8, reason: 'event 8 is missing: the end of the log was deleted' });
  db.prepare('DELETE FROM events WHERE seq = 5').run();
  const middle = await verifyStore(store);
  assert.deepEqual(middle.firstBad, { seq: 5, reason: 'event 5 is missing: deleted from the log' });
});

test('a rewritten event with a recomputed hash breaks the link to the next; a rewritten chain breaks the anchor', async (t) => {
  const { store, db } = await log(6);
  t.after(() => (db.close(), store.close()));
  const anchor = (await verifyStore(store)).head!;
  const row = db.prepare('SELECT * FROM events WHERE seq = 3').get() as {
    body: string;
    prev_hash: string;
    service: string;
    at: number;
    actor: string;
  };
  const forged = row.body.replace('reason 3', 'nothing to see');
  const hash = eventHash(row.prev_hash, {
    ...JSON.parse(forged),
    service: row.service,
    at: row.at,
    actor: row.actor,
    seq: 3,
  });
  db.prepare('UPDATE events SET body = ?, hash = ? WHERE seq = 3').run(forged, hash);
  const r = await verifyStore(store);
  assert.equal(r.firstBad!.seq, 4);
  assert.match(r.firstBad!.reason, /event 4 does not chain to event 3/);
  // The whole chain recomputed from event 3 on, head included: only a kept anchor shows it.
  let prev = hash;
  for (const seq of [4, 5, 6]) {
    const e = db.prepare('SELECT * FROM events WHERE seq = ?').get(seq) as {
      body: string;
      service: string;
      at: number;
      actor: string;
    };
    const h = eventHash(prev, { ...JSON.parse(e.body), service: e.service, at: e.at, actor: e.actor, seq });
    db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, h, seq);
    prev = h;
  }
  db.prepare('UPDATE audit_head SET hash = ?').run(prev);
  assert.equal((await verifyStore(store)).ok, true, 'without an anchor, a fully recomputed chain cannot be told apart');
  const anchored = await verifyStore(store, { anchor });
  assert.equal(anchored.firstBad!.seq, 6);
  assert.match(anchored.firstBad!.reason, /differs from the anchor/);
});

test('a log written before the chain existed is chained when opened, and new events extend it', async (t) => {
  const path = join(dir, 'legacy.db');
  const old = new DatabaseSync(path);
  old.exec(
    'CREATE TABLE events (seq INTEGER PRIMARY KEY, service TEXT NOT NULL, type TEXT NOT NULL, at BIGINT NOT NULL, actor TEXT NOT NULL, body TEXT NOT NULL)',
  );
  old
    .prepare('INSERT INTO events (service, type, at, actor, body) VALUES (?, ?, ?, ?, ?)')
    .run('checkout', 'service.recovered', 1, 'bob', '{"type":"service.recovered"}');
  old.close();
  const store = new SqliteStore(path);
  t.after(() => store.close());
  await store.commit('checkout', [{ type: 'service.recovered', at: 2, actor: 'bob' }], emptyState('checkout'));
  const r = await verifyStore(store);
  assert.equal(r.ok, true);
  assert.equal(r.checked, 2);
});
