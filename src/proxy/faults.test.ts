/** Drills' faults in the proxy process: real upstreams, a real proxy, real HTTP (docs/drills.md). */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ActiveFault } from '../core/drills/fault.ts';

const MAIN = fileURLToPath(new URL('main.ts', import.meta.url));
const SECRET = 'test-admin-secret-0123456789';
const AUTH = { authorization: `Bearer ${SECRET}` };

interface Proxy {
  child: ChildProcess;
  url: string;
  admin: string;
}

async function upstream(t: TestContext, name: string): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startProxy(t: TestContext): Promise<Proxy> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-faults-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'admin.secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [MAIN, '--dir', dir, '--listen', '127.0.0.1:0', '--admin-secret-file', secretFile],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  await once(child.stdout!, 'data');
  const info = JSON.parse(await readFile(join(dir, 'proxy.json'), 'utf8')) as { adminUrl: string; listen: string };
  return { child, url: `http://${info.listen}`, admin: info.adminUrl };
}

async function call<T>(
  proxy: Proxy,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${proxy.admin}${path}`, {
    method,
    headers: AUTH,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A proxy serving canary "2" (10%) and stable "1" (90%). */
async function canaryProxy(t: TestContext): Promise<Proxy> {
  const proxy = await startProxy(t);
  const table = {
    backends: [
      { key: '2', version: 'v2', weight: 10, endpoints: [await upstream(t, 'canary')] },
      { key: '1', version: 'v1', weight: 90, endpoints: [await upstream(t, 'stable')] },
    ],
  };
  assert.equal((await call(proxy, 'PUT', '/routes', table)).status, 200);
  return proxy;
}

/** Status (or 'reset' / 'cut') and body of one request through the proxy. */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number | 'reset' | 'cut'; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, ms: performance.now() - started }));
      res.on('error', () => resolve({ status: 'cut', body, ms: performance.now() - started }));
    });
    req.on('error', () => resolve({ status: 'reset', body: '', ms: performance.now() - started }));
  });
}

const fault = (id: string, effect: unknown, percent = 100, extra: Record<string, unknown> = {}) => ({
  id,
  key: '2',
  effect,
  percent,
  ttlMs: 60_000,
  ...extra,
});

test("100% errors on the 10% canary: exactly the canary's requests fail, counted as its errors", async (t) => {
  const proxy = await canaryProxy(t);
  const set = await call<{ faults: ActiveFault[] }>(proxy, 'PUT', '/faults', {
    faults: [fault('d/1/0', { kind: 'error', status: 503 })],
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const answers = [];
  for (let i = 0; i < 100; i++) answers.push(await get(proxy.url));
  assert.equal(answers.filter((a) => a.status === 503).length, 10);
  assert.ok(answers.filter((a) => a.status === 200).every((a) => a.body === 'stable'));
  const metrics = await call<{
    backends: Record<string, { requests: number; errors: number; statuses: Record<string, number> }>;
  }>(proxy, 'GET', '/metrics?window=60000');
  assert.deepEqual(metrics.body.backends['2']!.statuses, { 503: 10 });
  assert.equal(metrics.body.backends['1']!.errors, 0);
  const listed = await call<{ faults: ActiveFault[] }>(proxy, 'GET', '/faults');
  assert.equal(listed.body.faults[0]!.hits, 10);
  assert.ok(listed.body.faults[0]!.firstHitAt! <= listed.body.faults[0]!.lastHitAt!);
  const cleared = await call<{ removed: ActiveFault[] }>(proxy, 'DELETE', '/faults');
  assert.equal(cleared.body.removed.length, 1);
  for (let i = 0; i < 20; i++) assert.equal((await get(proxy.url)).status, 200);
});

test('latency, reset and abort faults each do what they say', async (t) => {
  const proxy = await canaryProxy(t);
  await call(proxy, 'PUT', '/routes', {
    backends: [{ key: '2', version: 'v2', weight: 100, endpoints: [await upstream(t, 'canary')] }],
  });
  await call(proxy, 'PUT', '/faults', { faults: [fault('lat', { kind: 'latency', ms: 300 })] });
  const slow = await get(proxy.url);
  assert.equal(slow.status, 200);
  assert.ok(slow.ms >= 290, `a 300 ms latency fault answered in ${slow.ms} ms`);
  await call(proxy, 'DELETE', '/faults?id=lat');
  await call(proxy, 'PUT', '/faults', { faults: [fault('reset', { kind: 'reset' })] });
  assert.equal((await get(proxy.url)).status, 'reset');
  await call(proxy, 'DELETE', '/faults');
  await call(proxy, 'PUT', '/faults', { faults: [fault('abort', { kind: 'abort' })] });
  assert.equal((await get(proxy.url)).status, 'cut');
  await call(proxy, 'DELETE', '/faults');
  const metrics = await call<{ backends: Record<string, { statuses: Record<string, number> }> }>(
    proxy,
    'GET',
    '/metrics?window=60000',
  );
  assert.deepEqual(metrics.body.backends['2']!.statuses, { 200: 1, connect: 2 });
});

test('a cohort fault hits the same users on every request, and only requests carrying the key', async (t) => {
  const proxy = await canaryProxy(t);
  await call(proxy, 'PUT', '/routes', {
    backends: [{ key: '2', version: 'v2', weight: 100, endpoints: [await upstream(t, 'canary')] }],
  });
  await call(proxy, 'PUT', '/faults', {
    faults: [fault('c', { kind: 'error', status: 500 }, 30, { cohort: { header: 'X-User-Id' } })],
  });
  const failing = new Set<string>();
  for (let u = 0; u < 200; u++)
    if ((await get(proxy.url, { 'x-user-id': `user-${u}` })).status === 500) failing.add(`user-${u}`);
  assert.ok(failing.size > 30 && failing.size < 90, `30% of 200 users, got ${failing.size}`);
  for (const u of [...failing].slice(0, 5)) assert.equal((await get(proxy.url, { 'x-user-id': u })).status, 500);
  assert.equal((await get(proxy.url)).status, 200, 'a request without the header is in no cohort');
});

test("a fault ends at its TTL by the proxy's own clock", async (t) => {
  const proxy = await canaryProxy(t);
  await call(proxy, 'PUT', '/routes', {
    backends: [{ key: '2', version: 'v2', weight: 100, endpoints: [await upstream(t, 'canary')] }],
  });
  await call(proxy, 'PUT', '/faults', {
    faults: [fault('short', { kind: 'error', status: 503 }, 100, { ttlMs: 1500 })],
  });
  assert.equal((await get(proxy.url)).status, 503);
  await new Promise((r) => setTimeout(r, 1600));
  assert.equal((await get(proxy.url)).status, 200);
  assert.deepEqual((await call<{ faults: unknown[] }>(proxy, 'GET', '/faults')).body.faults, []);
});

test('bad faults are refused naming the field; the admin secret is required', async (t) => {
  const proxy = await canaryProxy(t);
  const bad = async (f: unknown) =>
    (await call<{ error: string }>(proxy, 'PUT', '/faults', { faults: [f] })).body.error;
  assert.match(
    await bad(fault('x', { kind: 'error', status: 503 }, 150)),
    /faults\[0\]\.percent must be more than 0 and at most 100, got 150/,
  );
  assert.match(
    await bad(fault('x', { kind: 'error', status: 503 }, 5, { cohort: {} })),
    /faults\[0\]\.cohort needs exactly one key/,
  );
  assert.match(
    await bad(fault('x', { kind: 'error', status: 200 })),
    /faults\[0\]\.effect\.status must be an HTTP error status 400\.\.599, got 200/,
  );
  assert.match(
    await bad({ ...fault('x', { kind: 'reset' }), ttlMs: undefined }),
    /faults\[0\]\.ttlMs must be a whole number .* \(a fault always ends\)/,
  );
  assert.match(
    await bad(fault('x', { kind: 'boom' })),
    /effect\.kind must be error, reset, latency, abort or metricsOutage, got "boom"/,
  );
  const anonymous = await fetch(`${proxy.admin}/faults`, { method: 'DELETE' });
  assert.equal(anonymous.status, 401);
});

test('setting a held fault again renews its TTL and keeps its counts', async (t) => {
  const proxy = await canaryProxy(t);
  await call(proxy, 'PUT', '/routes', {
    backends: [{ key: '2', version: 'v2', weight: 100, endpoints: [await upstream(t, 'canary')] }],
  });
  const f = fault('lease', { kind: 'error', status: 503 }, 100, { ttlMs: 1000 });
  await call(proxy, 'PUT', '/faults', { faults: [f] });
  const setAt = Date.now();
  assert.equal((await get(proxy.url)).status, 503);
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 400));
    await call(proxy, 'PUT', '/faults', { faults: [f] });
  }
  assert.ok(Date.now() - setAt > 1000, 'past the first TTL');
  assert.equal((await get(proxy.url)).status, 503, 'renewed three times: alive past its 1 s TTL');
  const [held] = (await call<{ faults: ActiveFault[] }>(proxy, 'GET', '/faults')).body.faults;
  assert.equal(held!.hits, 2);
});

test('a metrics outage: the metrics API answers 503 until the fault ends; traffic is untouched', async (t) => {
  const proxy = await canaryProxy(t);
  const refused = await call<{ error: string }>(proxy, 'PUT', '/faults', {
    faults: [{ id: 'm', key: '2', effect: { kind: 'metricsOutage' }, percent: 100, ttlMs: 500 }],
  });
  assert.match(refused.body.error, /a metricsOutage fault takes key "\*"/);
  assert.equal(
    (
      await call(proxy, 'PUT', '/faults', {
        faults: [{ id: 'm', key: '*', effect: { kind: 'metricsOutage' }, percent: 100, ttlMs: 500 }],
      })
    ).status,
    200,
  );
  assert.equal((await call(proxy, 'GET', '/metrics?window=1000')).status, 503);
  assert.equal((await call(proxy, 'GET', '/metrics/watch?key=2&timeout=0')).status, 503);
  for (let i = 0; i < 10; i++) assert.equal((await get(proxy.url)).status, 200);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await call(proxy, 'GET', '/metrics?window=1000')).status, 200);
});
