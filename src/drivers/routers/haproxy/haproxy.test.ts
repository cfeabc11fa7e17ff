import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DriverContext } from '../../types.ts';
import type { RouteTable } from '../types.ts';
import { routerConformance } from '../conformance.ts';
import { isAlive, pollUntil, readPid } from '../managed-process.ts';
import { freePort, keepAliveClient, load, startUpstream, tally } from '../upstreams.ts';
import { haproxyRouter } from './index.ts';
import { accessLogMetrics } from '../../metrics/access-log/index.ts';
import { assignSlots, endpointAddress, runtimeCommands, serverWeight } from './layout.ts';
import { runtimeCommand } from './runtime-api.ts';
import { withoutServer } from '../../../../test/support/servers.ts';

describe('haproxy router, against a real HAProxy', { skip: withoutServer('haproxy', 'haproxy') }, () => {
  async function serviceDir(t: TestContext): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-haproxy-'));
    t.after(async () => {
      // Whatever the test did, no haproxy may outlive it.
      const pid = await readPid(join(dir, 'router', 'haproxy', 'haproxy.pid'));
      if (pid !== null && isAlive(pid)) process.kill(-pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    return dir;
  }

  async function makeManaged(t: TestContext) {
    const dir = await serviceDir(t);
    const port = await freePort();
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
    const make = () =>
      haproxyRouter.create(haproxyRouter.config.parse({ driver: 'haproxy', listen: `127.0.0.1:${port}` }), ctx);
    const router = make();
    t.after(() => router.shutdown());
    return { router, make, dir, listenUrl: `http://127.0.0.1:${port}`, port };
  }

  /** The conformance suite runs haproxy with its access log on, read by the access-log provider. */
  async function makeManagedWithMetrics(t: TestContext) {
    const dir = await serviceDir(t);
    const [port, logPort] = [await freePort(), await freePort()];
    const ctx: DriverContext = { service: 'shop', serviceDir: dir, log: () => {} };
    const metrics = accessLogMetrics.create(
      accessLogMetrics.config.parse({ provider: 'access-log', listen: `127.0.0.1:${logPort}`, heartbeat: '200ms' }),
      ctx,
    );
    t.after(() => metrics.close());
    const router = haproxyRouter.create(
      haproxyRouter.config.parse({
        driver: 'haproxy',
        listen: `127.0.0.1:${port}`,
        accessLog: `127.0.0.1:${logPort}`,
      }),
      ctx,
    );
    t.after(() => router.shutdown());
    return { router, metrics, listenUrl: `http://127.0.0.1:${port}` };
  }

  routerConformance('haproxy (managed)', makeManagedWithMetrics);

  const split = (canaryUrl: string, stableUrl: string, canary: number): RouteTable => ({
    backends: [
      { key: '2', version: 'v2', weight: canary, endpoints: [canaryUrl] },
      { key: '1', version: 'v1', weight: 100 - canary, endpoints: [stableUrl] },
    ],
  });

  const pidOf = (dir: string) => readPid(join(dir, 'router', 'haproxy', 'haproxy.pid'));

  test('managed: weight changes go through the runtime API without a reload, and read back', async (t) => {
    const [canary, stable] = await Promise.all([startUpstream(t, 'canary'), startUpstream(t, 'stable')]);
    const { router, dir, listenUrl } = await makeManaged(t);
    await router.apply(split(canary.url, stable.url, 10));
    const pid = await pidOf(dir);
    const socket = join(dir, 'router', 'haproxy', 'admin.sock');
    const workerBefore = /^Pid: (\d+)$/m.exec(await runtimeCommand(socket, 'show info'))?.[1];
    for (const w of [25, 50, 100, 0]) {
      await router.apply(split(canary.url, stable.url, w));
      assert.deepEqual(await router.read(), split(canary.url, stable.url, w));
    }
    assert.equal(
      /^Pid: (\d+)$/m.exec(await runtimeCommand(socket, 'show info'))?.[1],
      workerBefore,
      'the same worker serves: no reload',
    );
    assert.equal(await pidOf(dir), pid);
    assert.deepEqual(tally(await load(listenUrl, keepAliveClient(t), 50, 4)), { stable: 50 });

    // Weights changed behind Sluice's back are reported as HAProxy serves them.
    await runtimeCommand(socket, 'set server main/s0 weight 128');
    await runtimeCommand(socket, 'set server main/s1 weight 128');
    const read = await router.read();
    assert.deepEqual(
      read?.backends.map((b) => [b.key, b.weight]),
      [
        ['2', 50],
        ['1', 50],
      ],
    );
  });

  test('managed: a new route header reloads haproxy gracefully; no request is lost under load (retrying reset reused connections)', async (t) => {
    const [canary, stable] = await Promise.all([startUpstream(t, 'canary'), startUpstream(t, 'stable')]);
    const { router, listenUrl } = await makeManaged(t);
    await router.apply(split(canary.url, stable.url, 0));
    const cohort = (i: number): Record<string, string> => (i % 2 === 0 ? { 'x-cohort': 'beta' } : {});
    const running = load(listenUrl, keepAliveClient(t), 1500, 16, cohort, true);
    const names = ['x-cohort', 'x-team', 'x-region'];
    for (const name of names) {
      await router.apply({
        ...split(canary.url, stable.url, 0),
        routes: [{ key: '2', match: { header: name, value: 'beta' } }],
      });
    }
    const answers = await running;
    const counts = tally(answers);
    t.diagnostic(
      `3 reloads during 1500 requests: ${JSON.stringify(counts)}, ${answers.filter((a) => a.retried).length} retried`,
    );
    assert.equal((counts.canary ?? 0) + (counts.stable ?? 0), 1500, JSON.stringify(counts));
  });

  test('managed: haproxy keeps serving when its controller is SIGKILLed, and a new router re-attaches', async (t) => {
    const stable = await startUpstream(t, 'stable');
    const { make, dir, port, listenUrl } = await makeManaged(t);
    const controller = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('../fixtures/controller.ts', import.meta.url)),
        dir,
        JSON.stringify({ driver: 'haproxy', listen: `127.0.0.1:${port}` }),
        stable.url,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => controller.kill('SIGKILL'));
    await once(controller.stdout, 'data');
    const pid = await pidOf(dir);
    controller.kill('SIGKILL');
    await once(controller, 'exit');
    assert.ok(pid !== null && isAlive(pid), 'haproxy died with its controller');
    assert.deepEqual(tally(await load(listenUrl, keepAliveClient(t), 20, 4)), { stable: 20 });
    const router = make();
    const table: RouteTable = { backends: [{ key: '1', version: 'v1', weight: 100, endpoints: [stable.url] }] };
    assert.deepEqual(await router.read(), table);
    await router.apply(table);
    assert.equal(await pidOf(dir), pid, 're-attached instead of starting a second haproxy');
    await router.shutdown();
    assert.equal(isAlive(pid!), false);
    assert.equal(await router.read(), null);
  });

  /** An HAProxy run by "someone else": backend app with four empty server slots. */
  async function externalHaproxy(t: TestContext) {
    const dir = await serviceDir(t);
    const port = await freePort();
    const socket = join(dir, 'their.sock');
    const cfg = join(dir, 'their.cfg');
    const slots = [0, 1, 2, 3].map((i) => `  server app${i} 127.0.0.1:1 weight 0 disabled`).join('\n');
    await writeFile(
      cfg,
      `global\n  stats socket ${socket} level admin\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n` +
        `frontend web\n  bind 127.0.0.1:${port}\n  default_backend app\nbackend app\n  balance roundrobin\n${slots}\n`,
    );
    const child = spawn('haproxy', ['-f', cfg], { stdio: 'ignore' });
    t.after(() => child.kill('SIGKILL'));
    const up = await pollUntil(
      () =>
        runtimeCommand(socket, 'show info').then(
          () => true,
          () => null,
        ),
      5000,
    );
    assert.ok(up, 'haproxy started');
    return { dir, socket, listenUrl: `http://127.0.0.1:${port}` };
  }

  test('external: fills and weighs the server slots of a backend in a running HAProxy', async (t) => {
    const [canary, stable, stable2] = await Promise.all([
      startUpstream(t, 'canary'),
      startUpstream(t, 'stable'),
      startUpstream(t, 'stable'),
    ]);
    const { dir, socket, listenUrl } = await externalHaproxy(t);
    const config = haproxyRouter.config.parse({ driver: 'haproxy', adminSocket: socket, backend: 'app' });
    const router = haproxyRouter.create(config, { service: 'shop', serviceDir: dir, log: () => {} });
    const table: RouteTable = {
      backends: [
        { key: '2', version: 'v2', weight: 20, endpoints: [canary.url] },
        { key: '1', version: 'v1', weight: 80, endpoints: [stable.url, stable2.url] },
      ],
    };
    await router.apply(table);
    assert.deepEqual(await router.read(), table);
    const counts = tally(await load(listenUrl, keepAliveClient(t), 500, 8));
    assert.ok(Math.abs((counts.canary ?? 0) - 100) <= 20, `canary got ${counts.canary} of 500 at 20%`);
    assert.ok(stable.hits > 150 && stable2.hits > 150, `both stable endpoints serve: ${stable.hits}, ${stable2.hits}`);

    // The stable version moves to one endpoint: the freed slot goes to maintenance.
    await router.apply(split(canary.url, stable2.url, 0));
    assert.deepEqual(tally(await load(listenUrl, keepAliveClient(t), 50, 4)), { stable: 50 });
    const before = stable.hits;
    await load(listenUrl, keepAliveClient(t), 20, 4);
    assert.equal(stable.hits, before, 'the removed endpoint gets no traffic');

    await assert.rejects(
      router.apply({ ...table, routes: [{ key: '2', match: { header: 'x-cohort', value: 'beta' } }] }),
      /header\/cookie routes need managed mode/,
    );
    const five = [1, 2, 3, 4, 5].map((i) => `http://127.0.0.1:${40000 + i}`);
    await assert.rejects(
      router.apply({ backends: [{ key: '1', version: 'v1', weight: 100, endpoints: five }] }),
      /backend "app" has 4 server slots; the table needs 5/,
    );
    await router.shutdown();
    assert.ok(await runtimeCommand(socket, 'show info'), 'an external HAProxy is left running');
  });

  test('the config is managed (listen) or external (adminSocket + backend), never both', () => {
    const parse = (input: unknown) => haproxyRouter.config.safeParse(input);
    assert.ok(parse({ driver: 'haproxy', listen: '127.0.0.1:8080', stickiness: { header: 'x-user' } }).success);
    assert.ok(parse({ driver: 'haproxy', adminSocket: '/run/haproxy/admin.sock', backend: 'checkout' }).success);
    assert.equal(parse({ driver: 'haproxy' }).success, false);
    assert.equal(parse({ driver: 'haproxy', listen: '127.0.0.1:8080', backend: 'checkout' }).success, false);
    assert.equal(parse({ driver: 'haproxy', adminSocket: '/run/haproxy/admin.sock' }).success, false);
    assert.equal(
      parse({ driver: 'haproxy', adminSocket: '/s', backend: 'b', stickiness: { header: 'x' } }).success,
      false,
    );
    assert.equal(parse({ driver: 'haproxy', listen: '127.0.0.1:8080', stickiness: {} }).success, false);
  });

  test('runtime commands: new servers first, then weight increases before decreases, never all at 0', () => {
    const current = [
      { name: 's0', addr: '127.0.0.1', port: 5001, weight: 256, maint: false },
      { name: 's1', addr: '127.0.0.1', port: 5002, weight: 0, maint: false },
      { name: 's2', addr: '127.0.0.1', port: 5003, weight: 10, maint: false },
      { name: 's3', addr: '127.0.0.1', port: 1, weight: 0, maint: true },
    ];
    const targets = [
      { server: 's0', endpoint: { addr: '127.0.0.1', port: 5001, weight: 0 } },
      { server: 's1', endpoint: { addr: '127.0.0.1', port: 5002, weight: 200 } },
      { server: 's2', endpoint: null },
      { server: 's3', endpoint: { addr: '127.0.0.1', port: 5004, weight: 56 } },
    ];
    assert.deepEqual(runtimeCommands('main', targets, current), [
      'set server main/s3 addr 127.0.0.1 port 5004',
      'set server main/s3 weight 56',
      'set server main/s3 state ready',
      'set server main/s1 weight 200',
      'set server main/s0 weight 0',
      'set server main/s2 weight 0',
      'set server main/s2 state maint',
    ]);
  });

  test('weights: percent split over endpoints on 0..256, a positive share never rounds to 0; endpoints keep their slots', () => {
    assert.equal(serverWeight(100, 1), 256);
    assert.equal(serverWeight(10, 1), 26);
    assert.equal(serverWeight(1, 4), 1);
    assert.equal(serverWeight(0, 2), 0);
    const slots = ['s0', 's1', 's2'];
    const first = assignSlots(
      slots,
      {},
      new Map([
        ['http://a', 1],
        ['http://b', 1],
      ]),
    );
    assert.deepEqual(first, { s0: 'http://a', s1: 'http://b' });
    assert.deepEqual(
      assignSlots(
        slots,
        first!,
        new Map([
          ['http://c', 1],
          ['http://b', 1],
        ]),
      ),
      { s1: 'http://b', s0: 'http://c' },
    );
    assert.equal(assignSlots(slots, {}, new Map(['a', 'b', 'c', 'd'].map((u) => [`http://${u}`, 1]))), null);
    assert.throws(() => endpointAddress('http://localhost:80'), /needs an IP address, not a hostname/);
  });
});
