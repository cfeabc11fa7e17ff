import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtinMetrics } from '../../metrics/builtin/index.ts';
import type { DriverContext } from '../../types.ts';
import type { RouteTable } from '../types.ts';
import { routerConformance } from '../conformance.ts';
import { freePort, keepAliveClient, load, startUpstream, tally } from '../upstreams.ts';
import { builtinRouter } from './index.ts';
import { isAlive, readProxyInfo, spawnProxy } from './proxy-process.ts';

async function makeBuiltin(t: TestContext, workers?: number) {
  const serviceDir = await mkdtemp(join(tmpdir(), 'sluice-builtin-router-'));
  const ctx: DriverContext = { service: 'shop', serviceDir, log: () => {} };
  const port = await freePort();
  const router = builtinRouter.create(
    builtinRouter.config.parse({ driver: 'builtin', listen: `127.0.0.1:${port}`, ...(workers && { workers }) }),
    ctx,
  );
  t.after(async () => {
    await router.shutdown();
    await rm(serviceDir, { recursive: true, force: true });
  });
  return {
    router,
    listenUrl: `http://127.0.0.1:${port}`,
    metrics: builtinMetrics.create({ provider: 'builtin' }, ctx),
  };
}

routerConformance('builtin', (t) => makeBuiltin(t));
// The same suite against a proxy with two worker processes: every feature holds across workers.
routerConformance('builtin with workers: 2', (t) => makeBuiltin(t, 2));

const oneBackend = (url: string, key = '1'): RouteTable => ({
  backends: [{ key, version: `v${key}`, weight: 100, endpoints: [url] }],
});

/** A router on a fresh service dir, without automatic shutdown (the test decides). */
async function freshRouter(t: TestContext) {
  const serviceDir = await mkdtemp(join(tmpdir(), 'sluice-builtin-router-'));
  const port = await freePort();
  const ctx: DriverContext = { service: 'shop', serviceDir, log: () => {} };
  const config = builtinRouter.config.parse({ driver: 'builtin', listen: `127.0.0.1:${port}` });
  const make = () => builtinRouter.create(config, ctx);
  const dir = join(serviceDir, 'router');
  t.after(async () => {
    // Whatever the test did, no proxy may outlive it.
    const info = await readProxyInfo(dir);
    if (info !== null && isAlive(info.pid)) process.kill(info.pid, 'SIGKILL');
    await rm(serviceDir, { recursive: true, force: true });
  });
  return { make, dir, listenUrl: `http://127.0.0.1:${port}`, port };
}

async function proxyPid(dir: string): Promise<number> {
  const info = await readProxyInfo(dir);
  assert.ok(info !== null, 'proxy.json exists');
  return info.pid;
}

test('the proxy outlives its router and a new router re-attaches to it', async (t) => {
  const stable = await startUpstream(t, 'stable');
  const { make, dir, listenUrl } = await freshRouter(t);
  const first = make();
  await first.apply(oneBackend(stable.url));
  const pid = await proxyPid(dir);
  await first.close();

  const agent = keepAliveClient(t);
  assert.deepEqual(tally(await load(listenUrl, agent, 20, 4)), { stable: 20 }, 'traffic flows with no router');

  const second = make();
  assert.deepEqual(await second.read(), oneBackend(stable.url));
  await second.apply(oneBackend(stable.url));
  assert.equal(await proxyPid(dir), pid, 'no second proxy was started');
  assert.deepEqual(await second.inflight(), { '1': 0 });
  await second.shutdown();
});

test('the proxy keeps serving when its controller process is SIGKILLed', async (t) => {
  const stable = await startUpstream(t, 'stable');
  const { make, dir, listenUrl, port } = await freshRouter(t);
  const controller = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('../fixtures/controller.ts', import.meta.url)),
      dirname(dir),
      JSON.stringify({ driver: 'builtin', listen: `127.0.0.1:${port}` }),
      stable.url,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => controller.kill('SIGKILL'));
  await once(controller.stdout, 'data');
  const pid = await proxyPid(dir);
  controller.kill('SIGKILL');
  await once(controller, 'exit');

  assert.ok(isAlive(pid), 'the proxy died with its controller');
  assert.deepEqual(tally(await load(listenUrl, keepAliveClient(t), 20, 4)), { stable: 20 });
  const router = make();
  assert.deepEqual(await router.read(), oneBackend(stable.url));
  await router.apply(oneBackend(stable.url));
  assert.equal(await proxyPid(dir), pid, 'the new router re-attached instead of starting a proxy');
  await router.shutdown();
});

test('after a SIGKILL the proxy comes back with the persisted table', async (t) => {
  const [stable, canary] = await Promise.all([startUpstream(t, 'stable'), startUpstream(t, 'canary')]);
  const { make, dir, listenUrl } = await freshRouter(t);
  const router = make();
  await router.apply(oneBackend(stable.url));
  const pid = await proxyPid(dir);
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));

  // A proxy started on the same dir serves the last table before any apply.
  const restarted = await spawnProxy(dir, listenUrl.slice('http://'.length));
  assert.notEqual(restarted.pid, pid);
  const agent = keepAliveClient(t);
  assert.deepEqual(tally(await load(listenUrl, agent, 10, 2)), { stable: 10 });
  process.kill(restarted.pid, 'SIGKILL');
  while (isAlive(restarted.pid)) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();

  // The router notices its proxy is gone and starts a new one on apply.
  await router.apply(oneBackend(canary.url, '2'));
  assert.notEqual(await proxyPid(dir), restarted.pid);
  assert.deepEqual(tally(await load(listenUrl, keepAliveClient(t), 10, 2)), { canary: 10 });
  await router.shutdown();
});

test('responses and request bodies stream through without buffering', async (t) => {
  const slow = await startUpstream(t, 'slow', (req, res) => {
    if (req.method === 'POST') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    let n = 0;
    const tick = setInterval(() => {
      res.write(`chunk-${n}\n`);
      if (++n === 4) {
        clearInterval(tick);
        res.end();
      }
    }, 200);
    res.on('close', () => clearInterval(tick));
  });
  const { make, listenUrl } = await freshRouter(t);
  const router = make();
  t.after(() => router.shutdown());
  await router.apply(oneBackend(slow.url));

  const arrivals: number[] = [];
  const started = performance.now();
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get(listenUrl, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          arrivals.push(performance.now() - started);
          text += chunk;
        });
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  assert.equal(body, 'chunk-0\nchunk-1\nchunk-2\nchunk-3\n');
  assert.ok(arrivals.length >= 4, `the response arrived in ${arrivals.length} pieces`);
  assert.ok(arrivals[arrivals.length - 1]! - arrivals[0]! >= 450, `chunks spread over ${arrivals.join(', ')} ms`);

  // The echo answers with the first upload chunk while the client still holds the rest back.
  const echoed = await new Promise<string>((resolve, reject) => {
    const req = http.request(listenUrl, { method: 'POST' }, (res) => {
      res.setEncoding('utf8');
      res.once('data', (first: string) => {
        let text = first;
        req.end('second');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      });
    });
    req.on('error', reject);
    req.write('first,');
  });
  assert.equal(echoed, 'first,second');
});

test('shutdown stops the proxy and leaves no process or proxy.json', async (t) => {
  const stable = await startUpstream(t, 'stable');
  const { make, dir } = await freshRouter(t);
  const router = make();
  await router.apply(oneBackend(stable.url));
  const pid = await proxyPid(dir);
  await router.shutdown();
  assert.equal(isAlive(pid), false, `proxy ${pid} still runs`);
  assert.equal(await readProxyInfo(dir), null);
  assert.equal(await router.read(), null);
});

test('a listen address in use fails apply with the proxy log', async (t) => {
  const { make, port } = await freshRouter(t);
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const stable = await startUpstream(t, 'stable');
  await assert.rejects(make().apply(oneBackend(stable.url)), (err: Error) => {
    t.diagnostic(err.message);
    assert.match(err.message, /service "shop"/);
    assert.match(err.message, /EADDRINUSE/);
    return true;
  });
});

test('a bad table is refused with the reason', async (t) => {
  const { make } = await freshRouter(t);
  const router = make();
  t.after(() => router.shutdown());
  await assert.rejects(
    router.apply({ backends: [{ key: '1', version: 'v1', weight: 90, endpoints: ['http://127.0.0.1:1'] }] }),
    /refused the route table: invalid route table: backend weights sum to 90/,
  );
});

test('the config needs exactly one stickiness key and a host:port', () => {
  const parse = (input: unknown) => builtinRouter.config.safeParse(input);
  assert.ok(
    parse({ driver: 'builtin', listen: '127.0.0.1:8080', stickiness: { cookie: 'uid' }, upstreamTimeout: '30s' })
      .success,
  );
  assert.equal(parse({ driver: 'builtin', listen: '127.0.0.1:8080', stickiness: {} }).success, false);
  assert.equal(
    parse({ driver: 'builtin', listen: '127.0.0.1:8080', stickiness: { header: 'a', cookie: 'b' } }).success,
    false,
  );
  assert.equal(parse({ driver: 'builtin', listen: '8080' }).success, false);
  assert.equal(parse({ driver: 'builtin', listen: '127.0.0.1:8080', port: 1 }).success, false);
  const parsed = parse({ driver: 'builtin', listen: '127.0.0.1:8080', upstreamTimeout: '2s' });
  assert.equal(parsed.success && parsed.data.upstreamTimeout, 2000);
  assert.ok(parse({ driver: 'builtin', listen: '127.0.0.1:8080', workers: 4 }).success);
  for (const workers of [0, 1.5, 65, '2'])
    assert.equal(parse({ driver: 'builtin', listen: '127.0.0.1:8080', workers }).success, false, String(workers));
});
