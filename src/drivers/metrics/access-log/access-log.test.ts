/**
 * The access-log provider against real routers: HAProxy and NGINX (managed by their router
 * drivers, `accessLog` set) send a line per request to the provider's receiver, and its figures
 * per revision match the requests each upstream answered, statuses and failed connections
 * included. Then the faults: a silent router, a port already taken, another service's port.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withoutServer } from '../../../../test/support/servers.ts';
import { createRouter } from '../../registry.ts';
import { haproxyRouter } from '../../routers/haproxy/index.ts';
import { isAlive, readPid } from '../../routers/managed-process.ts';
import { nginxRouter } from '../../routers/nginx/index.ts';
import { freePort, keepAliveClient, load, startUpstream } from '../../routers/upstreams.ts';
import { writeLogStream } from '../../access-log.ts';
import type { DriverContext } from '../../types.ts';
import type { Measurement } from '../types.ts';
import type { Router } from '../../routers/types.ts';
import type { AccessLogProvider } from './access-log-provider.ts';
import { accessLogMetrics } from './index.ts';
import { AccessLogReceiver, MAX_UPSTREAMS, acquireReceiver, releaseReceiver } from './receiver.ts';

async function serviceDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-access-log-'));
  t.after(async () => {
    // Whatever the test did, no haproxy or nginx it started outlives it.
    const pidFiles = (await readdir(dir, { recursive: true })).filter((f) => /(haproxy|nginx)\.pid$/.test(f));
    for (const f of pidFiles) {
      const pid = await readPid(join(dir, f));
      if (pid !== null && isAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

function provider(t: TestContext, ctx: DriverContext, listen: string, extra: Record<string, unknown> = {}) {
  const p = accessLogMetrics.create(
    accessLogMetrics.config.parse({ provider: 'access-log', listen, silence: '1500ms', heartbeat: '200ms', ...extra }),
    ctx,
  );
  t.after(() => p.close());
  return p;
}

const stats = (m: Measurement | undefined) => {
  assert.equal(m?.kind, 'stats', JSON.stringify(m));
  return (m as Extract<Measurement, { kind: 'stats' }>).stats;
};

/** Polls until the provider has counted `n` requests for `key` (lines are asynchronous). */
async function counted(
  p: ReturnType<typeof provider>,
  keys: string[],
  expect: Record<string, number>,
): Promise<Record<string, Measurement>> {
  const until = Date.now() + 5000;
  let last: Record<string, Measurement> = {};
  while (Date.now() < until) {
    last = await p.collect(keys, 60_000);
    if (
      Object.entries(expect).every(
        ([k, n]) => last[k]?.kind === 'stats' && (last[k] as { stats: { requests: number } }).stats.requests >= n,
      )
    )
      return last;
    await sleep(100);
  }
  return last;
}

const routers = [
  [
    'haproxy',
    'haproxy',
    'haproxy',
    (listen: string, accessLog: string, ctx: DriverContext) =>
      haproxyRouter.create(haproxyRouter.config.parse({ driver: 'haproxy', listen, accessLog }), ctx),
  ],
  [
    'nginx',
    'nginx',
    'nginx-light',
    (listen: string, accessLog: string, ctx: DriverContext) =>
      nginxRouter.create(nginxRouter.config.parse({ driver: 'nginx', listen, accessLog, workers: 1 }), ctx),
  ],
] as const;

for (const [name, binary, pkg, make] of routers) {
  describe(`access-log metrics behind ${name}`, { skip: withoutServer(binary, pkg) }, () => {
    test(`${name}: every request is counted for its revision, with its status and latency`, async (t) => {
      const dir = await serviceDir(t);
      const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
      const [logPort, listenPort] = [await freePort(), await freePort()];
      const p = provider(t, ctx, `127.0.0.1:${logPort}`);
      let n = 0;
      const canary = await startUpstream(t, 'canary', (req, res) => {
        req.resume();
        // Every fifth request fails, and each takes about 20 ms.
        setTimeout(() => {
          res.writeHead(++n % 5 === 0 ? 500 : 200);
          res.end('canary');
        }, 20);
      });
      const stable = await startUpstream(t, 'stable');
      const router: Router = make(`127.0.0.1:${listenPort}`, `127.0.0.1:${logPort}`, ctx);
      t.after(() => router.shutdown());
      await router.apply({
        backends: [
          { key: '2', version: 'v2', weight: 50, endpoints: [canary.url] },
          { key: '1', version: 'v1', weight: 50, endpoints: [stable.url] },
        ],
      });
      const answers = await load(`http://127.0.0.1:${listenPort}/`, keepAliveClient(t), 200, 8);
      const byVersion = {
        canary: answers.filter((a) => a.body === 'canary').length,
        stable: answers.filter((a) => a.body === 'stable').length,
      };
      const m = await counted(p, ['2', '1'], { 2: byVersion.canary, 1: byVersion.stable });
      const c = stats(m['2']);
      const s = stats(m['1']);
      assert.equal(c.requests, byVersion.canary);
      assert.equal(s.requests, byVersion.stable);
      assert.equal(c.errors, Math.floor(n / 5), "the canary's 500s are its errors");
      assert.equal(c.statuses?.['500'], Math.floor(n / 5));
      assert.equal(s.errors, 0);
      const slowBuckets = Object.entries(c.latency)
        .filter(([b]) => Number(b) > 0)
        .reduce((x, [, v]) => x + v, 0);
      assert.equal(slowBuckets, c.requests, 'latencies recorded');
      assert.ok(
        m['2']?.kind === 'stats' && m['2'].totals !== undefined && m['2'].totals.requests === c.requests,
        'totals since the receiver started',
      );
    });

    test(`${name}: a router whose stream stops is a metrics error naming it; an idle one is not`, async (t) => {
      const dir = await serviceDir(t);
      const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
      const [logPort, listenPort] = [await freePort(), await freePort()];
      const p = provider(t, ctx, `127.0.0.1:${logPort}`);
      const stable = await startUpstream(t, 'stable');
      const router = make(`127.0.0.1:${listenPort}`, `127.0.0.1:${logPort}`, ctx);
      t.after(() => router.shutdown());
      await router.apply({ backends: [{ key: '1', version: 'v1', weight: 100, endpoints: [stable.url] }] });
      // Idle for longer than `silence`: the heartbeats keep the stream alive, and no request is noData.
      await sleep(2000);
      assert.deepEqual(await p.collect(['1'], 60_000), { 1: { kind: 'noData' } });
      // The router stops (its stream with it): an error naming it, never zeros.
      await router.shutdown();
      await sleep(2000);
      const m = (await p.collect(['1'], 60_000))['1'];
      assert.equal(m?.kind, 'error');
      assert.match(
        (m as { message: string }).message,
        new RegExp(
          `no access-log line from router ${name}-127.0.0.1:${listenPort} on 127.0.0.1:${logPort} for \\ds .*heartbeat .*failed`,
        ),
      );
    });
  });
}

describe("the cross-check with HAProxy's own counters", { skip: withoutServer('haproxy', 'haproxy') }, () => {
  test('every request HAProxy served was logged; lines dropped on the way show as missing, per revision, and are reported', async (t) => {
    const dir = await serviceDir(t);
    const logs: string[] = [];
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: (_l, message) => logs.push(message) };
    const [logPort, listenPort] = [await freePort(), await freePort()];
    // A cap low enough that a burst loses lines, as a lossy network would.
    const p = provider(t, ctx, `127.0.0.1:${logPort}`, { maxLinesPerSecond: 150 }) as AccessLogProvider;
    const stable = await startUpstream(t, 'stable');
    const router = haproxyRouter.create(
      haproxyRouter.config.parse({
        driver: 'haproxy',
        listen: `127.0.0.1:${listenPort}`,
        accessLog: `127.0.0.1:${logPort}`,
      }),
      ctx,
    );
    t.after(() => router.shutdown());
    await router.apply({ backends: [{ key: '1', version: 'v1', weight: 100, endpoints: [stable.url] }] });
    await load(`http://127.0.0.1:${listenPort}/`, keepAliveClient(t), 60, 4);
    await sleep(1500);
    const source = `haproxy-127.0.0.1:${listenPort}`;
    const first = p.crossCheck.figures.get(source);
    assert.ok(first !== undefined && 'versions' in first, JSON.stringify(first));
    assert.deepEqual(
      { served: first.served, logged: first.logged, missing: first.missing },
      { served: 60, logged: 60, missing: 0 },
      'haproxy started after the receiver: compared from zero',
    );
    assert.equal(first.versions['1']?.responses['2xx'], 60, "HAProxy's own 2xx count for the revision");
    assert.equal(first.versions['1']?.disagrees, false);
    assert.deepEqual(p.crossCheck.disagreements(), []);
    // 1000 requests in a burst against 150 lines a second.
    const receiver = acquireReceiver(`127.0.0.1:${logPort}`, 'shop', 150);
    t.after(() => releaseReceiver(receiver));
    await load(`http://127.0.0.1:${listenPort}/`, keepAliveClient(t), 1000, 16);
    await sleep(1500);
    const after = p.crossCheck.figures.get(source);
    assert.ok(after !== undefined && 'versions' in after);
    t.diagnostic(
      `served ${after.served}, logged ${after.logged}, missing ${after.missing}; receiver dropped ${receiver.counts.dropped}`,
    );
    assert.equal(after.served, 1060);
    assert.ok(after.missing > 0 && after.missing <= receiver.counts.dropped, 'the lines dropped are seen as missing');
    assert.equal(after.logged + after.missing, after.served);
    assert.equal(after.versions['1']?.disagrees, true);
    const said = logs.find((l) => l.includes("lines disagree with HAProxy's own counters"));
    assert.ok(said !== undefined, `reported: ${logs.join(' | ')}`);
    assert.match(
      said,
      new RegExp(`revision 1 on ${source}: HAProxy counted \\d+ requests, \\d+ lines came \\(\\d+ missing`),
    );
  });

  test("a canary refusing connections: the attempts HAProxy retried on stable are the canary's errors, and lines agree with the counters", async (t) => {
    const dir = await serviceDir(t);
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
    const [logPort, listenPort] = [await freePort(), await freePort()];
    const p = provider(t, ctx, `127.0.0.1:${logPort}`) as AccessLogProvider;
    const stable = await startUpstream(t, 'stable');
    const down = `http://127.0.0.1:${await freePort()}`;
    const router = haproxyRouter.create(
      haproxyRouter.config.parse({
        driver: 'haproxy',
        listen: `127.0.0.1:${listenPort}`,
        accessLog: `127.0.0.1:${logPort}`,
      }),
      ctx,
    );
    t.after(() => router.shutdown());
    await router.apply({
      backends: [
        { key: '2', version: 'v2', weight: 50, endpoints: [down] },
        { key: '1', version: 'v1', weight: 50, endpoints: [stable.url] },
      ],
    });
    const answers = await load(`http://127.0.0.1:${listenPort}/`, keepAliveClient(t), 200, 8);
    assert.equal(
      answers.filter((a) => a.body === 'stable').length,
      200,
      'HAProxy retried every refused attempt on stable',
    );
    const m = await counted(p, ['2', '1'], { 1: 200 });
    const canary = stats(m['2']);
    const figures = p.crossCheck.figures.get(`haproxy-127.0.0.1:${listenPort}`);
    assert.ok(figures !== undefined && 'versions' in figures, JSON.stringify(figures));
    const v2 = figures.versions['2']!;
    t.diagnostic(`canary: ${canary.requests} requests, ${canary.errors} errors; HAProxy: ${JSON.stringify(v2)}`);
    assert.ok(v2.retriedAttempts >= 50, `HAProxy retried ${v2.retriedAttempts} attempts away from the canary`);
    assert.equal(canary.errors, v2.retriedAttempts, 'each retried attempt is an error of the canary');
    assert.equal(canary.requests, canary.errors);
    assert.equal(stats(m['1']).errors, 0);
    assert.equal(v2.expected, 0, 'no line names the canary, and HAProxy counted none for it');
    assert.equal(figures.versions['1']?.expected, 200);
    assert.equal(figures.versions['1']?.responses['2xx'], 200);
    assert.deepEqual(p.crossCheck.disagreements(), [], 'the retried attempts are not missing lines');
  });
});

describe('access-log metrics across several HAProxy hosts', { skip: withoutServer('haproxy', 'haproxy') }, () => {
  test('the lines of every host are summed per revision; a host that goes silent is an error naming it', async (t) => {
    const dir = await serviceDir(t);
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
    const [logPort, a, b] = [await freePort(), await freePort(), await freePort()];
    const p = provider(t, ctx, `127.0.0.1:${logPort}`);
    const [canary, stable] = [await startUpstream(t, 'canary'), await startUpstream(t, 'stable')];
    const hosts = [a, b].map((port) => ({
      driver: 'haproxy',
      listen: `127.0.0.1:${port}`,
      accessLog: `127.0.0.1:${logPort}`,
      binary: 'haproxy',
    }));
    const router = createRouter({ driver: 'haproxy', fleet: hosts }, ctx);
    t.after(() => router.shutdown());
    await router.apply({
      backends: [
        { key: '2', version: 'v2', weight: 50, endpoints: [canary.url] },
        { key: '1', version: 'v1', weight: 50, endpoints: [stable.url] },
      ],
    });
    const answers = [
      ...(await load(`http://127.0.0.1:${a}/`, keepAliveClient(t), 60, 4)),
      ...(await load(`http://127.0.0.1:${b}/`, keepAliveClient(t), 40, 4)),
    ];
    const byVersion = {
      canary: answers.filter((x) => x.body === 'canary').length,
      stable: answers.filter((x) => x.body === 'stable').length,
    };
    const m = await counted(p, ['2', '1'], { 2: byVersion.canary, 1: byVersion.stable });
    assert.equal(stats(m['2']).requests + stats(m['1']).requests, 100, "both hosts' requests, summed");
    assert.equal(stats(m['2']).requests, byVersion.canary);
    // Host b stops: the figures become an error naming it.
    const { hostDir } = await import('../../routers/fleet.ts');
    const pid = Number(
      (await readFile(join(hostDir(dir, `127.0.0.1:${b}`), 'router', 'haproxy', 'haproxy.pid'), 'utf8')).trim(),
    );
    process.kill(-pid, 'SIGKILL');
    await sleep(2200);
    const silent = (await p.collect(['1'], 60_000))['1'];
    assert.equal(silent?.kind, 'error');
    assert.match(
      (silent as { message: string }).message,
      new RegExp(`no access-log line from router haproxy-127.0.0.1:${b} `),
    );
  });
});

describe('the access-log receiver', () => {
  test('garbage and truncated lines are counted, a flood past the cap is dropped and counted, and nothing throws', async (t) => {
    const dir = await serviceDir(t);
    const logs: string[] = [];
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: (_l, message) => logs.push(message) };
    const logPort = await freePort();
    const listen = `127.0.0.1:${logPort}`;
    const p = provider(t, ctx, listen, { maxLinesPerSecond: 1000 });
    // The provider's own receiver (one per address in a process): its counts are what it logs.
    const receiver = acquireReceiver(listen, 'shop', 1000);
    t.after(() => releaseReceiver(receiver));
    await receiver.ready;
    const socket = dgram.createSocket('udp4');
    t.after(() => socket.close());
    const send = (text: string | Buffer) =>
      new Promise<void>((resolve) => socket.send(text, logPort, '127.0.0.1', () => resolve()));
    const junk = [
      '',
      'hello',
      'sluice1 h a 127.0.0.1:1 20',
      Buffer.from([0xff, 0xfe, 0x00, 0x41]),
      'sluice1 n x 1.2.3.4:5 200 0.1',
      'x'.repeat(9000),
    ];
    for (const j of junk) await send(j);
    await sleep(300);
    assert.equal(receiver.counts.garbage, junk.length);
    // 3000 lines within one second against a cap of 1000 a second: the rest are dropped and counted.
    const second = Math.ceil(Date.now() / 1000) * 1000 + 5000;
    for (let i = 0; i < 3000; i++) receiver.take('sluice1 h a 127.0.0.1:4100 200 0 1 1', second + (i % 900));
    assert.equal(receiver.counts.lines, 1000);
    assert.equal(receiver.counts.dropped, 2000);
    assert.equal(receiver.upstreams.get('127.0.0.1:4100')?.metrics.totalRequests, 1000);
    const measured = await p.collect(['9'], 60_000);
    assert.equal(measured['9']?.kind, 'error', 'no router described its stream: an error, not zeros');
    assert.match((measured['9'] as { message: string }).message, /set router.accessLog to 127.0.0.1:\d+/);
  });

  test('a port already taken, or taken by another service, is a clear metrics error', async (t) => {
    const dir = await serviceDir(t);
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', resolve));
    t.after(() => squatter.close());
    const taken = `127.0.0.1:${squatter.address().port}`;
    const p = provider(t, ctx, taken);
    await sleep(100);
    const m = (await p.collect(['1'], 60_000))['1'];
    assert.deepEqual(m, {
      kind: 'error',
      message: `service "shop": cannot receive access logs on ${taken} (UDP): the port is already taken by another program; choose another metrics.listen`,
    });

    const free = `127.0.0.1:${await freePort()}`;
    provider(t, ctx, free);
    const other = provider(t, { ...ctx, service: 'billing' }, free);
    const o = (await other.collect(['1'], 60_000))['1'];
    assert.deepEqual(o, {
      kind: 'error',
      message: `service "billing": metrics.listen ${free} already receives the access log of service "shop"; give each service its own port`,
    });
  });

  test("watch wakes on the revision's next bad answer as soon as its line arrives, not on others' or on good ones", async (t) => {
    const dir = await serviceDir(t);
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
    const logPort = await freePort();
    await writeLogStream(dir, {
      sources: [{ source: 'a', heartbeatUrl: 'http://127.0.0.1:1/' }],
      upstreams: { '127.0.0.1:4100': '2', '127.0.0.1:4200': '1' },
    });
    const p = provider(t, ctx, `127.0.0.1:${logPort}`);
    await sleep(300); // the provider has read the router's description
    const socket = dgram.createSocket('udp4');
    t.after(() => socket.close());
    const send = (text: string) =>
      new Promise<void>((resolve) => socket.send(text, logPort, '127.0.0.1', () => resolve()));
    const abort = new AbortController();
    t.after(() => abort.abort());
    let woke = 0;
    void p.watch!('2', abort.signal).then(
      () => (woke = Date.now()),
      () => undefined,
    );
    await send('sluice1 h a 127.0.0.1:4100 200 0 1 1');
    await send('sluice1 h a 127.0.0.1:4200 500 0 1 1');
    await sleep(200);
    assert.equal(woke, 0, "a good answer, and another revision's bad one, do not wake it");
    const sent = Date.now();
    await send('sluice1 h a 127.0.0.1:4100 503 0 1 1');
    await sleep(200);
    assert.ok(woke >= sent && woke - sent < 200, `woke ${woke - sent} ms after the line was sent`);
  });

  test('memory is bounded: upstreams past the limit are dropped and counted', () => {
    const r = new AccessLogReceiver('127.0.0.1:1', 'shop', 1_000_000);
    void r.close();
    const now = Date.now();
    for (let i = 0; i < MAX_UPSTREAMS + 100; i++) r.take(`sluice1 h a 10.0.${i >> 8}.${i & 255}:80 200 0 1 1`, now);
    assert.equal(r.upstreams.size, MAX_UPSTREAMS);
    assert.equal(r.counts.dropped, 100);
  });

  test('an upstream that moves to another revision starts its counters again', () => {
    const r = new AccessLogReceiver('127.0.0.1:1', 'shop', 1_000_000);
    void r.close();
    const now = Date.now();
    r.take('sluice1 h a 127.0.0.1:4100 200 0 1 1', now);
    assert.equal(r.counts.unattributed, 1);
    r.assign({ '127.0.0.1:4100': '1' });
    assert.equal(r.upstreams.get('127.0.0.1:4100')?.key, '1', 'a line that came before the table is counted for it');
    r.take('sluice1 h a 127.0.0.1:4100 500 0 1 1', now);
    assert.equal(r.upstreams.get('127.0.0.1:4100')?.metrics.totalRequests, 2);
    r.assign({ '127.0.0.1:4100': '3' });
    assert.equal(r.upstreams.get('127.0.0.1:4100')?.key, '3');
    assert.equal(
      r.upstreams.get('127.0.0.1:4100')?.metrics.totalRequests,
      0,
      "revision 1's requests are not revision 3's",
    );
  });
});
