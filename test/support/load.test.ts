import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { isLoopback, percentile, startLoad } from './load.ts';

interface Target {
  url: string;
  received: () => number;
  headersSeen: string[];
}

/** A local server standing in for two versions: even request numbers are "a", odd ones "b". */
async function startTarget(
  t: { after: (fn: () => Promise<void>) => void },
  handle?: (n: number, res: http.ServerResponse) => boolean,
): Promise<Target> {
  let n = 0;
  const headersSeen: string[] = [];
  const server = http.createServer((req, res) => {
    const i = n++;
    const user = req.headers['x-user-id'];
    if (typeof user === 'string') headersSeen.push(user);
    if (handle?.(i, res)) return;
    res.writeHead(i % 10 === 9 ? 503 : 200, { 'x-version': i % 2 === 0 ? 'a' : 'b' });
    res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, received: () => n, headersSeen };
}

test('holds the requested rate and stops by itself at durationMs', async (t) => {
  const target = await startTarget(t);
  const began = performance.now();
  const load = startLoad({ url: target.url, rps: 200, durationMs: 2000 });
  const report = await load.done;
  const took = performance.now() - began;

  assert.ok(took >= 1950 && took < 2600, `stopped after ${took}ms`);
  assert.equal(report.sent, 400);
  assert.equal(report.skipped, 0);
  assert.equal(target.received(), 400);
  assert.ok(Math.abs(report.rps - 200) <= 30, `rps ${report.rps} within 15% of 200`);
  assert.equal(report.samples.length, 400);
  assert.equal(load.samples, report.samples);
  assert.ok(report.p50Ms > 0 && report.p50Ms <= report.p99Ms);
});

test('stop() ends a run early and resolves done with the same report', async (t) => {
  const target = await startTarget(t);
  const load = startLoad({ url: target.url, rps: 500 });
  while (load.samples.length < 20) await new Promise((r) => setTimeout(r, 5));
  const report = await load.stop();
  assert.equal(await load.done, report);
  assert.ok(report.sent >= 20 && report.sent < 200, `sent ${report.sent}`);
  assert.equal(report.samples.length, report.sent, 'in-flight requests finished before the report');
  assert.equal(target.received(), report.sent);
});

test('counts failures and versions', async (t) => {
  const target = await startTarget(t);
  // Concurrency above the total: on a starved machine no request is skipped for want of a socket.
  const report = await startLoad({
    url: target.url,
    rps: 500,
    durationMs: 400,
    concurrency: 256,
    headers: (i) => ({ 'x-user-id': `user-${i % 7}` }),
  }).done;

  assert.equal(report.sent, 200);
  assert.equal(report.failed, 20, 'every 10th answer is a 503');
  assert.equal(report.ok, 180);
  assert.deepEqual(report.byVersion, { a: { ok: 100, failed: 0 }, b: { ok: 80, failed: 20 } });
  assert.equal(target.headersSeen.length, 200);
  assert.deepEqual(new Set(target.headersSeen).size, 7);
  for (const s of report.samples) {
    assert.ok(s.end >= s.start && Math.abs(s.start - Date.now()) < 10_000, 'sample times are epoch ms');
  }
});

test('connection errors and timeouts become samples with status 0', async (t) => {
  const never = await startTarget(t, () => true); // never answers
  const slow = await startLoad({ url: never.url, rps: 50, durationMs: 100, timeoutMs: 200 }).done;
  assert.equal(slow.sent, 5);
  assert.equal(slow.failed, 5);
  assert.ok(slow.samples.every((s) => s.status === 0 && s.error === 'timeout after 200ms'));
  assert.ok(Number.isNaN(slow.p50Ms), 'no response, no latency');

  const gone = http.createServer().listen(0, '127.0.0.1');
  await once(gone, 'listening');
  const port = (gone.address() as AddressInfo).port;
  await new Promise((resolve) => gone.close(resolve));
  const refused = await startLoad({ url: `http://127.0.0.1:${port}/`, rps: 50, durationMs: 100 }).done;
  assert.equal(refused.failed, refused.sent);
  assert.deepEqual(refused.byVersion, { unknown: { ok: 0, failed: refused.sent } });
  assert.ok(refused.samples.every((s) => s.status === 0 && typeof s.error === 'string'));
});

test('skips instead of queueing when concurrency requests are in flight', async (t) => {
  const target = await startTarget(t, () => true); // holds every request until the client gives up
  // 30 requests come due over 300ms; the first 3 stay in flight until their 500ms timeout.
  const report = await startLoad({ url: target.url, rps: 100, durationMs: 300, concurrency: 3, timeoutMs: 500 }).done;
  assert.equal(report.sent, 3);
  assert.equal(report.skipped, 27);
  assert.equal(target.received(), 3);
  // A request that could not be sent failed: a stalled target does not pass `failed === 0`.
  assert.equal(report.failed, 30);
  assert.deepEqual(report.byVersion, { unknown: { ok: 0, failed: 30 } });
  const skips = report.samples.filter((s) => s.skipped === true);
  assert.equal(skips.length, 27);
  assert.ok(
    skips.every(
      (s) =>
        s.status === 0 &&
        s.version === null &&
        s.end === s.start &&
        s.error === 'not sent: 3 requests already in flight',
    ),
  );
  assert.ok(
    skips.every((s, n) => n === 0 || s.start > skips[n - 1]!.start),
    'at the time each came due',
  );
});

test('refuses targets that are not loopback', () => {
  assert.throws(() => startLoad({ url: 'http://example.com/', rps: 1 }), /not a loopback address/);
  assert.throws(() => startLoad({ url: 'http://10.0.0.1:8080/', rps: 1 }), /not a loopback address/);
  assert.throws(() => startLoad({ url: 'https://127.0.0.1/', rps: 1 }), /must use http:/);
  assert.throws(() => startLoad({ url: 'http://127.0.0.1/', rps: 0 }), /rps=0 is not valid/);
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'LOCALHOST']) assert.ok(isLoopback(host), host);
  for (const host of ['128.0.0.1', '127.0.0.256', '127.0.0.1.nip.io', '0.0.0.0', '::'])
    assert.ok(!isLoopback(host), host);
});

test('percentile uses nearest rank and leaves its input alone', () => {
  const values = [5, 1, 4, 2, 3];
  assert.equal(percentile(values, 50), 3);
  assert.equal(percentile(values, 99), 5);
  assert.equal(percentile(values, 0), 1);
  assert.deepEqual(values, [5, 1, 4, 2, 3]);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile(values, 101), /p=101/);
});
