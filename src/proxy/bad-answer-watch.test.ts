import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { createAdminHandler } from './admin.ts';
import { BackendMetrics } from '../core/analysis/backend-metrics.ts';
import { BadAnswerWatchers } from './bad-answer-watch.ts';
import { DataPlane } from './data-plane.ts';

const STARTED_AT = 1_700_000_000_000;
const SECRET = 'a-test-secret-of-some-length';

async function admin(t: TestContext): Promise<{ url: string; plane: DataPlane }> {
  const plane = new DataPlane();
  const server = http.createServer(
    createAdminHandler({ plane, persist: async () => {}, startedAt: STARTED_AT, now: Date.now, secret: SECRET }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, plane };
}

async function watch(
  url: string,
  query: string,
  signal?: AbortSignal,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/metrics/watch?${query}`, {
    headers: { authorization: `Bearer ${SECRET}` },
    ...(signal && { signal }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('the watch answers at once when the key has more bad answers than seen', async (t) => {
  const { url, plane } = await admin(t);
  plane.metricsOf('2').record(Date.now(), 1, 404);
  plane.metricsOf('2').record(Date.now(), 1, 200);
  const r = await watch(url, 'key=2&seen=0');
  assert.equal(r.status, 200);
  assert.deepEqual({ ...r.body, now: 0 }, { key: '2', bad: 1, woke: true, startedAt: STARTED_AT, now: 0 });
});

test('the watch holds until the next bad answer (a good one does not wake it)', async (t) => {
  const { url, plane } = await admin(t);
  const m = plane.metricsOf('2');
  m.record(Date.now(), 1, 503);
  const started = performance.now();
  const answer = watch(url, 'key=2&seen=1&timeout=10000');
  setTimeout(() => m.record(Date.now(), 1, 200), 50);
  setTimeout(() => m.record(Date.now(), 1, 'connect'), 150);
  const r = await answer;
  const took = performance.now() - started;
  assert.equal(r.body.woke, true);
  assert.equal(r.body.bad, 2);
  assert.ok(took >= 140 && took < 2000, `answered after ${took} ms`);
});

test('without a bad answer the watch ends at its timeout with woke false', async (t) => {
  const { url, plane } = await admin(t);
  plane.metricsOf('2').record(Date.now(), 1, 500);
  const started = performance.now();
  const r = await watch(url, 'key=2&seen=1&timeout=200');
  assert.ok(performance.now() - started >= 190);
  assert.deepEqual([r.status, r.body.woke, r.body.bad], [200, false, 1]);
});

test('a count seen on another start of the proxy counts as 0', async (t) => {
  const { url, plane } = await admin(t);
  plane.metricsOf('2').record(Date.now(), 1, 500);
  const r = await watch(url, `key=2&seen=7&startedAt=${STARTED_AT - 5000}&timeout=5000`);
  assert.deepEqual([r.body.woke, r.body.bad, r.body.startedAt], [true, 1, STARTED_AT]);
});

test('bad parameters are answered 400 naming the parameter', async (t) => {
  const { url } = await admin(t);
  for (const [query, pattern] of [
    ['seen=1', /key is required/],
    ['key=2&seen=-1', /seen must be a whole number/],
    ['key=2&timeout=60000', /timeout must be a whole number from 0 to 30000/],
  ] as const) {
    const r = await watch(url, query);
    assert.equal(r.status, 400, query);
    assert.match(String(r.body.error), pattern);
  }
});

test('a client that leaves stops its wait: no listener or timer is left behind', async (t) => {
  const { url, plane } = await admin(t);
  const m = plane.metricsOf('2');
  const leave = new AbortController();
  const answer = watch(url, 'key=2&seen=0&timeout=30000', leave.signal);
  while (!m.watched) await new Promise((r) => setTimeout(r, 5));
  leave.abort();
  await assert.rejects(answer);
  const until = Date.now() + 2000;
  while (m.watched && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.equal(m.watched, false);
  // Were its 30 s timer left running, this test file would not end before it.
});

test('at most max wait at once; the one over is refused', async () => {
  const watchers = new BadAnswerWatchers(2);
  const m = new BackendMetrics();
  const gone = new AbortController();
  const a = watchers.wait(m, 0, 10_000, gone.signal);
  const b = watchers.wait(m, 0, 10_000, gone.signal);
  assert.equal(watchers.wait(m, 0, 10_000, gone.signal), null);
  assert.equal(watchers.waiting, 2);
  m.record(Date.now(), 1, 404);
  assert.deepEqual(await Promise.all([a, b]), [true, true]);
  assert.equal(watchers.waiting, 0);
  // An answer already there needs no place among the waiters.
  const full = new BadAnswerWatchers(0);
  assert.equal(await full.wait(m, 0, 10_000, gone.signal), true);
  gone.abort();
  assert.equal(await watchers.wait(m, 5, 10_000, gone.signal), false, 'an aborted wait ends at once');
});

test('a wake-up at a count not above seen keeps waiting', async () => {
  const watchers = new BadAnswerWatchers();
  const m = new BackendMetrics();
  const woke = watchers.wait(m, 1, 10_000, new AbortController().signal)!;
  let done = false;
  void woke.then(() => (done = true));
  m.record(Date.now(), 1, 404); // 1 bad answer: not above seen
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  m.record(Date.now(), 1, 404);
  assert.equal(await woke, true);
});

test('the admin API refuses a watcher over the cap with 429', async (t) => {
  const { url, plane } = await admin(t);
  const leave = new AbortController();
  const held = Array.from({ length: new BadAnswerWatchers().max }, () =>
    watch(url, 'key=2&timeout=30000', leave.signal).catch(() => null),
  );
  const m = plane.metricsOf('2');
  const until = Date.now() + 5000;
  let r = await watch(url, 'key=2&timeout=30000', AbortSignal.timeout(200)).catch(() => null);
  while (r?.status !== 429 && Date.now() < until) {
    await new Promise((res) => setTimeout(res, 20));
    r = await watch(url, 'key=2&timeout=30000', AbortSignal.timeout(200)).catch(() => null);
  }
  assert.equal(r?.status, 429);
  assert.match(String(r?.body.error), /64 watchers wait already; retry later/);
  m.record(Date.now(), 1, 500);
  const answers = await Promise.all(held);
  assert.ok(
    answers.every((a) => a?.body.woke === true),
    'every held watcher woke',
  );
  leave.abort();
});
