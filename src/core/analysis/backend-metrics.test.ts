import assert from 'node:assert/strict';
import { test } from 'node:test';
import { total } from './histogram.ts';
import { BackendMetrics, MetricsBook, RETENTION_MS, SLOT_MS } from './backend-metrics.ts';

const T0 = 1_700_000_000_000;

test('a window sums the slots it covers, the current partial slot included', () => {
  const m = new BackendMetrics();
  m.record(T0, 5, 200);
  m.record(T0 + 300, 50, 500);
  m.record(T0 + 900, 500, 200);
  const w = m.window(T0 + 950, 1000);
  assert.equal(w.requests, 3);
  assert.equal(w.errors, 1);
  assert.equal(total(w.latency), 3);
  const recent = m.window(T0 + 950, 250);
  assert.equal(recent.requests, 1);
  assert.equal(recent.errors, 0);
});

test('slots older than the window are left out, totals keep counting', () => {
  const m = new BackendMetrics();
  m.record(T0, 1, 500);
  m.record(T0 + 10_000, 1, 200);
  const w = m.window(T0 + 10_000, 5_000);
  assert.equal(w.requests, 1);
  assert.equal(w.errors, 0);
  assert.equal(w.total.requests, 2);
  assert.equal(w.total.errors, 1);
  assert.equal(total(w.total.latency), 2, 'latency counters keep every request too');
});

test('a ring slot reused after 15 minutes starts from zero', () => {
  const m = new BackendMetrics();
  m.record(T0, 1, 500);
  m.record(T0 + RETENTION_MS, 1, 200); // same ring position, next lap
  const w = m.window(T0 + RETENTION_MS, RETENTION_MS);
  assert.equal(w.requests, 1);
  assert.equal(w.errors, 0);
  assert.equal(m.window(T0 + RETENTION_MS + 2 * SLOT_MS, SLOT_MS).requests, 0);
});

test('the book reports keys in the table or with traffic, and forgets idle old keys', () => {
  const book = new MetricsBook();
  book.of('old').record(T0, 1, 200);
  book.of('live').record(T0, 1, 200);
  assert.deepEqual(Object.keys(book.snapshot(T0 + 1000, 5000, ['new'])).sort(), ['live', 'new', 'old']);
  const later = book.snapshot(T0 + RETENTION_MS + 1000, 5000, ['live']);
  assert.deepEqual(Object.keys(later), ['live']);
  assert.equal(later.live!.total.requests, 1);
});

test('answers are counted by status and no answer as connect, apart, in windows and totals', () => {
  const m = new BackendMetrics();
  m.record(T0, 1, 200);
  m.record(T0 + 10, 1, 404);
  m.record(T0 + 20, 1, 404);
  m.record(T0 + 30, 1, 503);
  m.record(T0 + 40, 1, 'connect');
  m.record(T0 + 50, 1, null); // the client left before any answer
  m.record(T0 + 10_000, 1, 'connect');
  m.record(T0 + 10_010, 1, 500);

  const early = m.window(T0 + 100, 1000);
  assert.deepEqual(early.statuses, { '200': 1, '404': 2, '503': 1, connect: 1 });
  assert.equal(early.requests, 6, 'a request the client left is a request, without a status');
  assert.equal(early.errors, 2, 'errors stay 5xx and no answer: a 404 is not one');

  const late = m.window(T0 + 10_100, 1000);
  assert.deepEqual(late.statuses, { '500': 1, connect: 1 });
  assert.equal(late.errors, 2);
  assert.deepEqual(late.total.statuses, { '200': 1, '404': 2, '503': 1, '500': 1, connect: 2 });
  assert.equal(late.total.errors, 4);
  assert.equal(m.totalBad, 6, 'bad answers: 404 ×2, 503, 500, connect ×2');
});

test('a ring slot reused after 15 minutes forgets its statuses', () => {
  const m = new BackendMetrics();
  m.record(T0, 1, 404);
  m.record(T0 + RETENTION_MS, 1, 200);
  const w = m.window(T0 + RETENTION_MS, SLOT_MS);
  assert.deepEqual(w.statuses, { '200': 1 });
  assert.deepEqual(w.total.statuses, { '200': 1, '404': 1 });
});

test('a waiter is called once, at the next answer of status 400 or more or none', () => {
  const m = new BackendMetrics();
  let calls = 0;
  m.onNextBad(() => calls++);
  assert.equal(m.watched, true);
  m.record(T0, 1, 200);
  m.record(T0, 1, 302);
  m.record(T0, 1, null);
  assert.equal(calls, 0);
  m.record(T0, 1, 429);
  m.record(T0, 1, 'connect');
  assert.equal(calls, 1, 'one-shot');
  assert.equal(m.watched, false);
  const cancel = m.onNextBad(() => calls++);
  cancel();
  m.record(T0, 1, 500);
  assert.equal(calls, 1, 'a cancelled waiter is not called');
});

test('the book does not forget an idle key someone watches', () => {
  const book = new MetricsBook();
  const cancel = book.of('next').onNextBad(() => {});
  book.snapshot(T0 + RETENTION_MS + 1000, 5000, []);
  assert.equal(book.of('next').watched, true, 'the same counters the watcher waits on');
  cancel();
  book.snapshot(T0 + RETENTION_MS + 1000, 5000, []);
  assert.equal(book.of('next').watched, false);
});
