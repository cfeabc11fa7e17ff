import assert from 'node:assert/strict';
import { test } from 'node:test';
import { total } from '../core/histogram.ts';
import { BackendMetrics, MetricsBook, RETENTION_MS, SLOT_MS } from './backend-metrics.ts';

const T0 = 1_700_000_000_000;

test('a window sums the slots it covers, the current partial slot included', () => {
  const m = new BackendMetrics();
  m.record(T0, 5, false);
  m.record(T0 + 300, 50, true);
  m.record(T0 + 900, 500, false);
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
  m.record(T0, 1, true);
  m.record(T0 + 10_000, 1, false);
  const w = m.window(T0 + 10_000, 5_000);
  assert.equal(w.requests, 1);
  assert.equal(w.errors, 0);
  assert.equal(w.total.requests, 2);
  assert.equal(w.total.errors, 1);
  assert.equal(total(w.total.latency), 2, 'latency counters keep every request too');
});

test('a ring slot reused after 15 minutes starts from zero', () => {
  const m = new BackendMetrics();
  m.record(T0, 1, true);
  m.record(T0 + RETENTION_MS, 1, false); // same ring position, next lap
  const w = m.window(T0 + RETENTION_MS, RETENTION_MS);
  assert.equal(w.requests, 1);
  assert.equal(w.errors, 0);
  assert.equal(m.window(T0 + RETENTION_MS + 2 * SLOT_MS, SLOT_MS).requests, 0);
});

test('the book reports keys in the table or with traffic, and forgets idle old keys', () => {
  const book = new MetricsBook();
  book.of('old').record(T0, 1, false);
  book.of('live').record(T0, 1, false);
  assert.deepEqual(Object.keys(book.snapshot(T0 + 1000, 5000, ['new'])).sort(), ['live', 'new', 'old']);
  const later = book.snapshot(T0 + RETENTION_MS + 1000, 5000, ['live']);
  assert.deepEqual(Object.keys(later), ['live']);
  assert.equal(later.live!.total.requests, 1);
});
