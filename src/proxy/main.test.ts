/** The proxy process end to end: real upstreams, a real proxy process, real HTTP. */
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

const MAIN = fileURLToPath(new URL('main.ts', import.meta.url));

async function upstream(t: TestContext, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const named =
  (name: string): http.RequestListener =>
  (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  };

async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

interface Proxy {
  child: ChildProcess;
  dir: string;
  url: string;
  admin: string;
}

const SECRET = 'test-admin-secret-0123456789';
const AUTH = { authorization: `Bearer ${SECRET}` };

/** A state dir holding the admin secret file (mode 0600 unless said otherwise). */
async function stateDir(t: TestContext, mode = 0o600): Promise<{ dir: string; secretFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-proxy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'admin.secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode });
  return { dir, secretFile };
}

/** An admin call with the secret. */
const admin = (proxy: Proxy, path: string, init: RequestInit = {}) =>
  fetch(`${proxy.admin}${path}`, { ...init, headers: AUTH });

async function startProxy(t: TestContext, extra: string[] = []): Promise<Proxy> {
  const { dir, secretFile } = await stateDir(t);
  const child = spawn(
    process.execPath,
    [MAIN, '--dir', dir, '--listen', '127.0.0.1:0', '--admin-secret-file', secretFile, ...extra],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  await once(child.stdout!, 'data'); // the "serving" line comes after proxy.json is written
  const info = JSON.parse(await readFile(join(dir, 'proxy.json'), 'utf8')) as { adminUrl: string; listen: string };
  return { child, dir, url: `http://${info.listen}`, admin: info.adminUrl };
}

async function putRoutes(proxy: Proxy, table: unknown): Promise<Response> {
  return admin(proxy, '/routes', { method: 'PUT', body: JSON.stringify(table) });
}

const backend = (key: string, weight: number, endpoints: string[]) => ({ key, version: `v${key}`, weight, endpoints });

function send(url: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function metrics(proxy: Proxy): Promise<Record<string, { requests: number; errors: number; inflight: number }>> {
  const res = await admin(proxy, '/metrics?window=60000');
  return ((await res.json()) as { backends: Record<string, { requests: number; errors: number; inflight: number }> })
    .backends;
}

test('without a table the proxy answers 503; the admin API validates and persists tables', async (t) => {
  const proxy = await startProxy(t);
  assert.equal((await send(proxy.url)).status, 503);
  assert.equal((await admin(proxy, '/routes')).status, 404);
  const bad = await putRoutes(proxy, { backends: [backend('1', 50, ['http://127.0.0.1:1'])] });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /weights sum to 50/);
  assert.equal((await admin(proxy, '/routes', { method: 'PUT', body: '{' })).status, 400);

  const table = { backends: [backend('1', 100, [await upstream(t, named('one'))])] };
  const ok = await putRoutes(proxy, table);
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { ok: boolean }).ok, true);
  assert.deepEqual(JSON.parse(await readFile(join(proxy.dir, 'routes.json'), 'utf8')), table);
  assert.deepEqual(await send(proxy.url), { status: 200, body: 'one' });
});

test('a refused GET is retried once on another endpoint; the failure counts for its backend', async (t) => {
  const proxy = await startProxy(t);
  const live = await upstream(t, named('live'));
  await putRoutes(proxy, { backends: [backend('1', 100, [await deadUrl(), live])] });
  for (let i = 0; i < 10; i++) assert.deepEqual(await send(proxy.url), { status: 200, body: 'live' });
  const m = await metrics(proxy);
  assert.equal(m['1']!.errors, 5, 'every other attempt hit the dead endpoint');
  assert.equal(m['1']!.requests, 15);
});

test('a request with a body is not retried: 502, counted as an error', async (t) => {
  const proxy = await startProxy(t);
  const live = await upstream(t, named('live'));
  await putRoutes(proxy, { backends: [backend('2', 50, [await deadUrl()]), backend('1', 50, [live])] });
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push((await send(proxy.url, 'POST', 'payload')).status);
  assert.deepEqual(answers.sort(), [200, 200, 502, 502]);
  const m = await metrics(proxy);
  assert.equal(m['2']!.errors, 2);
  assert.equal(m['1']!.errors, 0);
});

test('an upstream slower than --upstream-timeout-ms gives 504; upstream 5xx count as errors', async (t) => {
  const proxy = await startProxy(t, ['--upstream-timeout-ms', '300']);
  const silent = await upstream(t, () => {});
  const failing = await upstream(t, (req, res) => res.writeHead(500).end('boom'));
  await putRoutes(proxy, { backends: [backend('1', 100, [silent])] });
  assert.equal((await send(proxy.url)).status, 504);
  await putRoutes(proxy, { backends: [backend('1', 0, [silent]), backend('2', 100, [failing])] });
  assert.deepEqual(await send(proxy.url), { status: 500, body: 'boom' });
  const m = await metrics(proxy);
  assert.deepEqual([m['1']!.requests, m['1']!.errors, m['2']!.requests, m['2']!.errors], [1, 1, 1, 1]);
});

test('a request in flight finishes on its endpoint after the table drops it', async (t) => {
  const proxy = await startProxy(t);
  let release: () => void = () => {};
  const slow = await upstream(t, (req, res) => {
    release = () => res.end('slow');
  });
  const fast = await upstream(t, named('fast'));
  await putRoutes(proxy, { backends: [backend('1', 100, [slow])] });
  const pending = send(proxy.url);
  while ((await metrics(proxy))['1']?.inflight !== 1) await new Promise((r) => setTimeout(r, 10));
  await putRoutes(proxy, { backends: [backend('2', 100, [fast])] });
  assert.deepEqual(await send(proxy.url), { status: 200, body: 'fast' });
  release();
  assert.deepEqual(await pending, { status: 200, body: 'slow' });
  assert.equal((await metrics(proxy))['1']!.inflight, 0);
});

test('SIGTERM lets in-flight requests finish, then exits 0 and removes proxy.json', async (t) => {
  const proxy = await startProxy(t);
  const slow = await upstream(t, (req, res) => {
    setTimeout(() => res.end('done'), 400);
  });
  await putRoutes(proxy, { backends: [backend('1', 100, [slow])] });
  const pending = send(proxy.url);
  while ((await metrics(proxy))['1']?.inflight !== 1) await new Promise((r) => setTimeout(r, 10));
  proxy.child.kill('SIGTERM');
  assert.deepEqual(await pending, { status: 200, body: 'done' });
  const [code] = (await once(proxy.child, 'exit')) as [number | null];
  assert.equal(code, 0);
  await assert.rejects(readFile(join(proxy.dir, 'proxy.json')), { code: 'ENOENT' });
});

test('the admin API answers 401 to a call without the secret, or with another one, and changes nothing', async (t) => {
  const proxy = await startProxy(t);
  const table = { backends: [backend('1', 100, [await upstream(t, named('one'))])] };
  assert.equal((await putRoutes(proxy, table)).status, 200);
  const hijack = JSON.stringify({ backends: [backend('9', 100, [await upstream(t, named('attacker'))])] });
  for (const headers of [
    {},
    { authorization: 'Bearer wrong-secret' },
    { authorization: SECRET },
    { authorization: `Basic ${SECRET}` },
  ]) {
    const res = await fetch(`${proxy.admin}/routes`, { method: 'PUT', body: hijack, headers });
    assert.equal(res.status, 401, `PUT /routes with ${JSON.stringify(headers)}`);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    assert.match(((await res.json()) as { error: string }).error, /Authorization: Bearer/);
  }
  for (const path of ['/healthz', '/routes', '/metrics', '/metrics/watch?key=1&timeout=0']) {
    assert.equal((await fetch(`${proxy.admin}${path}`)).status, 401, `GET ${path} without the secret`);
  }
  assert.deepEqual(await send(proxy.url), { status: 200, body: 'one' }, 'the table was not changed');
  assert.deepEqual(JSON.parse(await readFile(join(proxy.dir, 'routes.json'), 'utf8')), table);
});

test('the proxy will not start without a secret file only its owner can read', async (t) => {
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1:0', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stderr };
  };
  const open = await stateDir(t, 0o644);
  const none = await run(['--dir', open.dir]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--admin-secret-file is required/);
  const wide = await run(['--dir', open.dir, '--admin-secret-file', open.secretFile]);
  assert.equal(wide.code, 2);
  assert.match(wide.stderr, /has mode 644; make it readable by its owner only \(chmod 600\)/);
  const missing = await run(['--dir', open.dir, '--admin-secret-file', join(open.dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope: ENOENT/);
});

test('a second proxy on the same address exits non-zero naming the address', async (t) => {
  const first = await startProxy(t);
  const { dir, secretFile } = await stateDir(t);
  const listen = first.url.slice('http://'.length);
  const second = spawn(process.execPath, [MAIN, '--dir', dir, '--listen', listen, '--admin-secret-file', secretFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  second.stderr.on('data', (c: Buffer) => (stderr += c));
  const [code] = (await once(second, 'exit')) as [number | null];
  assert.notEqual(code, 0);
  assert.match(stderr, new RegExp(`cannot listen on ${listen}: EADDRINUSE`));
});

test('fencing: a table set under a lower lease epoch than the one in force is refused and changes nothing', async (t) => {
  const proxy = await startProxy(t);
  const one = await upstream(t, named('one'));
  const two = await upstream(t, named('two'));
  assert.equal((await putRoutes(proxy, { epoch: 7, backends: [backend('1', 100, [one])] })).status, 200);
  const stale = await putRoutes(proxy, { epoch: 6, backends: [backend('2', 100, [two])] });
  assert.equal(stale.status, 409);
  assert.match(
    ((await stale.json()) as { error: string }).error,
    /stale epoch: the table was set under lease epoch 6, but epoch 7 set the one in force; refused/,
  );
  assert.deepEqual(await send(proxy.url), { status: 200, body: 'one' }, 'the stale table was not applied');
  assert.equal(JSON.parse(await readFile(join(proxy.dir, 'routes.json'), 'utf8')).epoch, 7, 'nor persisted');
  assert.equal(
    (await putRoutes(proxy, { epoch: 8, backends: [backend('2', 100, [two])] })).status,
    200,
    'the next owner, a higher epoch',
  );
  assert.deepEqual(await send(proxy.url), { status: 200, body: 'two' });
  // The router's write log: every decision, in order, with the epoch that asked for it.
  const log = (await readFile(join(proxy.dir, 'routes.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { epoch: number; accepted: boolean; weights: Record<string, number>; error?: string });
  assert.deepEqual(
    log.map((w) => [w.epoch, w.accepted, w.weights]),
    [
      [7, true, { v1: 100 }],
      [6, false, { v2: 100 }],
      [8, true, { v2: 100 }],
    ],
  );
  assert.match(log[1]!.error!, /stale epoch/);
  const bad = await putRoutes(proxy, { epoch: -1, backends: [backend('2', 100, [two])] });
  assert.match(
    ((await bad.json()) as { error: string }).error,
    /epoch must be a whole number ≥ 0 \(a lease epoch\), got -1/,
  );
});

test('--admin-listen puts the admin API where replicas on other hosts can reach it; a bad one exits 2', async (t) => {
  const proxy = await startProxy(t, ['--admin-listen', '127.0.0.2:0']);
  assert.match(proxy.admin, /^http:\/\/127\.0\.0\.2:\d+$/);
  assert.equal((await admin(proxy, '/healthz')).status, 200);
  const { dir, secretFile } = await stateDir(t);
  const bad = spawn(
    process.execPath,
    [MAIN, '--dir', dir, '--listen', '127.0.0.1:0', '--admin-secret-file', secretFile, '--admin-listen', 'nowhere'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  bad.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(bad, 'exit')) as [number | null];
  assert.equal(code, 2);
  assert.match(stderr, /--admin-listen "nowhere" is not host:port, e.g\. 127\.0\.0\.1:0 \(the default\)/);
});
