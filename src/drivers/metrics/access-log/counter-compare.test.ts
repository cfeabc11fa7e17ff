import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerCounters } from '../../routers/haproxy/server-counters.ts';
import { CounterComparison } from './counter-compare.ts';

const counters = (requests: number, retried = 0, inFlight = 0): ServerCounters => ({
  requests,
  connectErrors: 0,
  responseErrors: 0,
  retriedAttempts: retried,
  responses: { '1xx': 0, '2xx': requests, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 },
  inFlight,
  queueMs: 0,
  connectMs: 1,
  responseMs: 4,
  totalMs: 5,
});
const servers = { 'main/s0': '10.0.0.1:80', 'main/s1': '10.0.0.2:80' };
const keys = { '10.0.0.1:80': '2', '10.0.0.2:80': '1' };
const lines = (canary: number, stable: number) => {
  const m = new Map([
    ['10.0.0.1:80', canary],
    ['10.0.0.2:80', stable],
  ]);
  return { before: m, after: m };
};

test('lines lost for one revision: a disagreement only once seen at two readings in a row', () => {
  const c = new CounterComparison(false);
  const read = (canary: number, stable: number, canaryLines: number, stableLines: number) =>
    c.read(
      new Map([
        ['main/s0', counters(canary)],
        ['main/s1', counters(stable)],
      ]),
      servers,
      keys,
      lines(canaryLines, stableLines),
    );
  read(100, 900, 100, 900); // the base
  const one = read(200, 1800, 150, 1800);
  assert.deepEqual([one.versions['2']?.missing, one.versions['2']?.disagrees], [50, false]);
  assert.deepEqual([one.versions['1']?.missing, one.versions['1']?.disagrees], [0, false]);
  const two = read(210, 1900, 160, 1900);
  assert.deepEqual(
    [two.versions['2']?.expected, two.versions['2']?.missing, two.versions['2']?.disagrees],
    [110, 50, true],
  );
  assert.equal(two.versions['1']?.disagrees, false);
});

test('retried attempts are handed out once; counters that go back, or a slot that moves, start again', () => {
  const c = new CounterComparison(true);
  const at = (requests: number, retried: number, map: Record<string, string> = servers) =>
    c.read(new Map([['main/s0', counters(requests, retried)]]), map, keys, lines(requests, 0));
  assert.deepEqual([...at(5, 3).failed], [['10.0.0.1:80', 3]], 'from zero: every attempt since the worker started');
  assert.deepEqual([...at(6, 7).failed], [['10.0.0.1:80', 4]]);
  assert.deepEqual([...at(6, 7).failed], [], 'nothing new');
  assert.deepEqual([...at(1, 1).failed], [], 'a reloaded haproxy: the counters start again, nothing handed out');
  assert.deepEqual([...at(2, 3).failed], [['10.0.0.1:80', 2]]);
  const moved = { 'main/s0': '10.0.0.2:80' };
  assert.deepEqual(
    [...at(9, 9, moved).failed],
    [],
    'the slot now serves another upstream: its history is not that one',
  );
  const v = at(12, 10, moved).versions['1']!;
  assert.deepEqual([v.expected, v.retriedAttempts, v.responses['2xx']], [3, 1, 3]);
});

test('lines counted before show stat beyond what HAProxy counted are extra', () => {
  const c = new CounterComparison(true);
  const m = new Map([['main/s0', counters(10)]]);
  const many = { before: new Map([['10.0.0.1:80', 20]]), after: new Map([['10.0.0.1:80', 20]]) };
  assert.equal(c.read(m, servers, keys, many).versions['2']?.extra, 10);
  assert.equal(c.read(m, servers, keys, many).versions['2']?.disagrees, true);
});
