/**
 * A multi-worker proxy (`--workers 2`) end to end: real upstreams, a real proxy process with its
 * node:cluster workers, real HTTP on new connections (which the primary hands to the workers in
 * turn, so every worker serves some of them).
 */
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
import { childrenOf, isAlive } from '../drivers/routers/managed-process.ts';

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

async function startProxy(t: TestContext, workers: number): Promise<Proxy> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-proxy-workers-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'admin.secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [MAIN, '--dir', dir, '--listen', '127.0.0.1:0', '--admin-secret-file', secretFile, '--workers', String(workers)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const kids = childrenOf(child.pid!);
      child.kill('SIGKILL');
      await once(child, 'exit');
      // The workers leave when the primary's channel closes; make sure of it.
      for (const pid of kids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
  await once(child.stdout!, 'data'); // the "serving" line comes once every worker listens
  const info = JSON.parse(await readFile(join(dir, 'proxy.json'), 'utf8')) as { adminUrl: string; listen: string };
  return { child, url: `http://${info.listen}/`, admin: info.adminUrl };
}

const table = (canary: number, stable: string, canaryUrl: string) => ({
  backends: [
    { key: 'canary', version: 'v2', weight: canary, endpoints: [canaryUrl] },
    { key: 'stable', version: 'v1', weight: 100 - canary, endpoints: [stable] },
  ],
});

async function putRoutes(proxy: Proxy, body: unknown): Promise<{ ok: boolean; workers?: number; workersMs?: number }> {
  const res = await fetch(`${proxy.admin}/routes`, { method: 'PUT', headers: AUTH, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  return (await res.json()) as { ok: boolean; workers?: number; workersMs?: number };
}

/** `n` GETs, each on a new connection (so the primary hands them to the workers in turn); answers by body. */
async function sample(url: string, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(url, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        })
        .on('error', reject);
    });
    seen[body] = (seen[body] ?? 0) + 1;
  }
  return seen;
}

async function totals(proxy: Proxy): Promise<Record<string, number>> {
  const res = await fetch(`${proxy.admin}/metrics?window=60000`, { headers: AUTH });
  const body = (await res.json()) as { backends: Record<string, { requests: number; total: { requests: number } }> };
  return Object.fromEntries(Object.entries(body.backends).map(([k, b]) => [k, b.total.requests]));
}

test('a rollback reaches every worker before it is confirmed; the counters are summed over the workers', async (t) => {
  const stable = await upstream(t, 'stable');
  const canary = await upstream(t, 'canary');
  const proxy = await startProxy(t, 2);
  const health = (await (await fetch(`${proxy.admin}/healthz`, { headers: AUTH })).json()) as { workers: number };
  assert.equal(health.workers, 2);
  assert.equal(childrenOf(proxy.child.pid!).length, 2, 'the primary runs two workers');

  const applied = await putRoutes(proxy, table(50, stable, canary));
  assert.equal(applied.workers, 2);
  const before = await sample(proxy.url, 40);
  const canaryBefore = before['200 canary'] ?? 0;
  assert.equal(canaryBefore + (before['200 stable'] ?? 0), 40, JSON.stringify(before));
  assert.ok(
    canaryBefore >= 15 && canaryBefore <= 25,
    `each worker splits its requests 50/50: ${JSON.stringify(before)}`,
  );

  // The rollback: once PUT answers, every worker routes to stable.
  const rollback = await putRoutes(proxy, table(0, stable, canary));
  assert.equal(typeof rollback.workersMs, 'number');
  t.diagnostic(`rollback confirmed by both workers in ${rollback.workersMs} ms`);
  assert.ok(rollback.workersMs! < 1000, `the workers confirmed in ${rollback.workersMs} ms`);
  const after = await sample(proxy.url, 40);
  assert.deepEqual(after, { '200 stable': 40 }, 'no worker serves the canary after the rollback');

  assert.deepEqual(
    await totals(proxy),
    { canary: canaryBefore, stable: 80 - canaryBefore },
    'the summed counters are the requests sent',
  );
});

test('a worker that dies is replaced and serves the table in force', async (t) => {
  const stable = await upstream(t, 'stable');
  const canary = await upstream(t, 'canary');
  const proxy = await startProxy(t, 2);
  await putRoutes(proxy, table(0, stable, canary));
  assert.deepEqual(await sample(proxy.url, 10), { '200 stable': 10 });
  const [victim] = childrenOf(proxy.child.pid!);
  process.kill(victim!, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const kids = childrenOf(proxy.child.pid!);
    if (kids.length === 2 && !kids.includes(victim!)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(childrenOf(proxy.child.pid!).length, 2, 'a new worker took its place');
  await new Promise((r) => setTimeout(r, 1000)); // the new worker listens once it has the state
  assert.deepEqual(await sample(proxy.url, 20), { '200 stable': 20 });
  // The dead worker's counts were read before it died only if a metrics read came first: the live ones are all here.
  const t1 = await totals(proxy);
  assert.ok((t1.stable ?? 0) >= 20, `stable counted ${t1.stable}`);
});

test("the bad-answer watch wakes on a worker's bad answer; fault hits are counted over the workers", async (t) => {
  const stable = await upstream(t, 'stable');
  const canary = await upstream(t, 'canary');
  const proxy = await startProxy(t, 2);
  await putRoutes(proxy, table(0, stable, canary));
  const watch = fetch(`${proxy.admin}/metrics/watch?key=stable&seen=0&timeout=10000`, { headers: AUTH });
  // Every answer of stable fails for 30 s: a drill's fault, sent to both workers.
  const put = await fetch(`${proxy.admin}/faults`, {
    method: 'PUT',
    headers: AUTH,
    body: JSON.stringify({
      faults: [{ id: 'f1', key: 'stable', percent: 100, effect: { kind: 'error', status: 503 }, ttlMs: 30_000 }],
    }),
  });
  assert.equal(put.status, 200, await put.clone().text());
  assert.deepEqual(await sample(proxy.url, 10), { '503 sluice proxy: fault injected by a drill\n': 10 });
  const woke = (await (await watch).json()) as { woke: boolean; bad: number };
  assert.equal(woke.woke, true);
  assert.ok(woke.bad >= 1, `bad ${woke.bad}`);
  // Hits and bad answers arrive from the workers within an event-loop turn or two.
  await new Promise((r) => setTimeout(r, 200));
  const faults = (await (await fetch(`${proxy.admin}/faults`, { headers: AUTH })).json()) as {
    faults: { id: string; hits: number }[];
  };
  assert.equal(faults.faults[0]?.hits, 10, "both workers' hits");
  const again = (await (
    await fetch(`${proxy.admin}/metrics/watch?key=stable&seen=0&timeout=0`, { headers: AUTH })
  ).json()) as { bad: number };
  assert.equal(again.bad, 10, "the watch's count is both workers' bad answers");
});
