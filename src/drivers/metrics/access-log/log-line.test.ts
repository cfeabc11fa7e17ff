import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLogLine } from './log-line.ts';

test('HAProxy lines: raw or behind a syslog header; timers summed; no response headers is a failed connection', () => {
  assert.deepEqual(parseLogLine('sluice1 h a 127.0.0.1:4100 200 0 12 3'), {
    source: 'a',
    upstream: '127.0.0.1:4100',
    answer: 200,
    latencyMs: 15,
  });
  assert.deepEqual(parseLogLine('<134>Dec  4 17:40:00 haproxy[12]: sluice1 h a 127.0.0.1:4100 503 1 -1 -1\n'), {
    source: 'a',
    upstream: '127.0.0.1:4100',
    answer: 'connect',
    latencyMs: 1,
  });
  assert.deepEqual(parseLogLine('sluice1 h a ::1:4100 500 0 4 0'), {
    source: 'a',
    upstream: '::1:4100',
    answer: 500,
    latencyMs: 4,
  });
  // A drill's fault answered in the server's place (Tr is -1): its status, not a failed connection.
  assert.deepEqual(parseLogLine('sluice1 h a 127.0.0.1:4100 503 0 -1 -1 503'), {
    source: 'a',
    upstream: '127.0.0.1:4100',
    answer: 503,
    latencyMs: 0,
  });
  // A reset fault closed the client's connection although the server answered: a failed connection.
  assert.deepEqual(parseLogLine('sluice1 h a 127.0.0.1:4100 200 0 1 0 connect'), {
    source: 'a',
    upstream: '127.0.0.1:4100',
    answer: 'connect',
    latencyMs: 1,
  });
  assert.deepEqual(parseLogLine('sluice1 h a 127.0.0.1:4100 503 1 -1 -1 -'), {
    source: 'a',
    upstream: '127.0.0.1:4100',
    answer: 'connect',
    latencyMs: 1,
  });
  // The heartbeat (answered by HAProxy itself) names no server.
  assert.deepEqual(parseLogLine('sluice1 h a -:- 204 -1 -1 0'), { source: 'a', upstream: null });
});

test('NGINX lines: the last upstream of a retried request answered; its times are summed; seconds become ms', () => {
  assert.deepEqual(parseLogLine('<190>Dec  4 17:40:00 sluice1 n b 127.0.0.1:4100 200 0.012 200'), {
    source: 'b',
    upstream: '127.0.0.1:4100',
    answer: 200,
    latencyMs: 12,
  });
  const retried = parseLogLine('sluice1 n b 127.0.0.1:1, 127.0.0.1:4100 502, 200 0.001, 0.020 200');
  assert.equal(retried?.upstream, '127.0.0.1:4100');
  assert.ok(
    retried !== null && retried.upstream !== null && retried.answer === 200 && Math.abs(retried.latencyMs - 21) < 1e-9,
  );
  assert.deepEqual(parseLogLine('sluice1 n b [::1]:4100 - - 502'), {
    source: 'b',
    upstream: '::1:4100',
    answer: 'connect',
    latencyMs: 0,
  });
  assert.deepEqual(parseLogLine('sluice1 n b - - - 204'), { source: 'b', upstream: null });
});

test('garbage and truncated lines are null, never a throw', () => {
  for (const bad of [
    '',
    'hello',
    'sluice1',
    'sluice1 h',
    'sluice1 h a 127.0.0.1:4100 200 0 12',
    'sluice1 h a 127.0.0.1:4100 2x0 0 1 2',
    'sluice1 h a 127.0.0.1:4100 200 0 1 2 5x3',
    'sluice1 h a 127.0.0.1:4100 200 0 1 2 - x',
    'sluice1 x a b c d e f',
    'sluice1 n b 127.0.0.1:4100 200 0.0',
    'sluice1 n b 127.0.0.1:4100 200 abc 200',
    'sluice1 h a"; 127.0.0.1:1 200 0 1 1',
    'sluice1 h a host:port 200 0 1 1',
    '\u0000\uffff sluice1 n',
  ]) {
    assert.equal(parseLogLine(bad), null, JSON.stringify(bad));
  }
});
