/**
 * The data plane is watched: a SIGKILLed built-in proxy is started again from its last table (its
 * death an event and a problem until it is back, three deaths a minute pause the release), its
 * admin API refuses callers without the secret, and a table changed behind Sluice's back with the
 * secret is noticed and re-asserted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServiceEvent } from '../src/core/events.ts';
import type { Sample } from './support/load.ts';
import { startLoad } from './support/load.ts';
import { deployedServer, serviceSpec, type SluiceServer } from './support/sluice.ts';

const routerDir = (server: SluiceServer) => join(server.dataDir, 'services/checkout/router');
const proxyInfo = (server: SluiceServer) =>
  JSON.parse(readFileSync(join(routerDir(server), 'proxy.json'), 'utf8')) as { pid: number; adminUrl: string };
const secret = (server: SluiceServer) => readFileSync(join(routerDir(server), 'admin.secret'), 'utf8').trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function events(server: SluiceServer, after = 0): Promise<ServiceEvent[]> {
  const r = await server.api<{ events: ServiceEvent[] }>(
    'GET',
    `/api/services/checkout/events?after=${after}&limit=1000`,
  );
  return r.body.events;
}

async function waitForEvent(
  server: SluiceServer,
  type: string,
  after: number,
  timeoutMs = 10_000,
): Promise<ServiceEvent> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const found = (await events(server, after)).find((e) => e.type === type);
    if (found) return found;
    await sleep(50);
  }
  throw new Error(
    `no ${type} event after seq ${after} within ${timeoutMs} ms; server log:\n${server.log.slice(-2000)}`,
  );
}

/** SIGKILL the proxy; resolves once it is gone (its pid no longer answers signal 0). */
async function killProxy(server: SluiceServer): Promise<{ pid: number; at: number }> {
  const { pid } = proxyInfo(server);
  const at = Date.now();
  process.kill(pid, 'SIGKILL');
  return { pid, at };
}

async function newProxy(server: SluiceServer, old: number, timeoutMs = 5000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const { pid } = proxyInfo(server);
      if (pid !== old) return pid;
    } catch {
      // proxy.json is being rewritten
    }
    await sleep(20);
  }
  throw new Error(`no new proxy within ${timeoutMs} ms`);
}

/** When traffic was served again: the start of the first request after `since` from which every later one succeeded. */
function servedAgainAt(samples: Sample[], since: number): number | null {
  const after = samples.filter((s) => s.start >= since).sort((a, b) => a.start - b.start);
  let from: number | null = null;
  for (const s of after) {
    const ok = s.status > 0 && s.status < 500;
    if (!ok) from = null;
    else from ??= s.start;
  }
  return from;
}

test(
  'a SIGKILLed proxy serves again within 2 s at 200 requests/s during a release; three deaths in a minute pause it',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 200, durationMs: 60_000, timeoutMs: 3000 });
    t.after(() => load.stop());
    // The metrics provider fails while the proxy is down: a contract on a 250 ms interval allows
    // that for 5 s here, so the pause seen is the data plane's, not the metricsErrors policy's.
    const contract = `    interval: 250ms
    window: 5s
    minSamples: 20
    metricsErrors: { limit: 20 }
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }`;
    await server.apply(
      serviceSpec({ version: '2.0.0', listenPort, steps: ['setWeight: 20', 'pause: { duration: 10m }'], contract }),
    );
    await server.waitFor(
      (s) => s.appliedWeights['2.0.0'] === 20 && s.release?.status === 'Progressing',
      'canary at 20%',
    );
    const seq = (await events(server)).at(-1)!.seq;

    const first = await killProxy(server);
    await newProxy(server, first.pid);
    await sleep(2500);
    const at = servedAgainAt(load.samples, first.at);
    assert.ok(at !== null, 'traffic is served again');
    const downMs = at - first.at;
    const failed = load.samples.filter((s) => s.start >= first.at && (s.status === 0 || s.status >= 500)).length;
    t.diagnostic(
      `SIGKILL → traffic served again: ${Math.round(downMs)} ms at 200 requests/s (${failed} requests failed)`,
    );
    assert.ok(downMs <= 2000, `traffic served again ${Math.round(downMs)} ms after the kill (target ≤ 2000 ms)`);
    const servedAfter = load.samples.filter((s) => s.start > at);
    assert.ok(
      servedAfter.some((s) => s.version === '2.0.0') && servedAfter.some((s) => s.version === '1.0.0'),
      'the restarted proxy serves the last split',
    );

    const died = await waitForEvent(server, 'router.died', seq);
    assert.match((died as { detail: string }).detail, new RegExp(`pid ${first.pid}.*killed by SIGKILL`));
    const restarted = await waitForEvent(server, 'router.restarted', died.seq);
    const restartMs = (restarted as { downMs: number }).downMs;
    t.diagnostic(
      `death seen → proxy serving again: ${restartMs} ms (router.restarted downMs); seen ${died.at - first.at} ms after the kill`,
    );
    // The target is 1 s; a proxy is a fresh Node process, which a loaded test machine starts slowly.
    assert.ok(restartMs <= 2000, `restarted ${restartMs} ms after the death was seen`);
    const status = await server.status();
    assert.deepEqual(status.problems, [], 'the problem ended when the proxy was back');
    assert.equal(
      status.release?.status,
      'Progressing',
      `one death does not pause the release: ${JSON.stringify(status.release?.pause)}`,
    );

    // Two more deaths within the minute: the release pauses, saying why.
    for (let i = 0; i < 2; i++) {
      const k = await killProxy(server);
      await newProxy(server, k.pid);
      await waitForEvent(server, 'router.restarted', (await events(server)).at(-1)!.seq - 3);
    }
    const paused = await server.waitFor((s) => s.release?.status === 'Paused', 'release paused', 10_000);
    assert.equal(paused.release?.pause?.reason, 'dataPlane');
    assert.match(paused.release?.pause?.detail ?? '', /the data plane died 3 times within 60 s/);
    assert.equal(paused.weights['2.0.0'], 20, 'paused where it was');
  },
);

test('with no release, a dead proxy is a problem in status until it serves again', { timeout: 120_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t);
  const seq = (await events(server)).at(-1)!.seq;
  // Take the proxy's port the moment it is free, so its restart fails until the port is given back.
  const { pid } = await killProxy(server);
  let squatter: net.Server;
  for (;;) {
    const attempt = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      attempt.once('error', () => resolve(false));
      attempt.listen(listenPort, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      squatter = attempt;
      break;
    }
    await sleep(2);
  }
  t.after(() => new Promise<void>((r) => squatter.close(() => r())));
  const down = await server.waitFor((s) => s.problems.some((p) => p.driver === 'router'), 'a router problem', 10_000);
  const problem = down.problems.find((p) => p.driver === 'router')!;
  assert.match(problem.error, new RegExp(`pid ${pid}.*killed by SIGKILL|EADDRINUSE`));
  assert.equal(down.phase, 'Healthy');
  await sleep(1500);
  assert.ok(
    (await server.status()).problems.some((p) => p.driver === 'router'),
    'still a problem while the proxy cannot start',
  );

  await new Promise<void>((r) => squatter.close(() => r()));
  const up = await server.waitFor((s) => s.problems.length === 0, 'the problem to end', 15_000);
  assert.deepEqual(up.problems, []);
  const res = await fetch(`http://127.0.0.1:${listenPort}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-version'), '1.0.0');
  const log = await events(server, seq);
  const types = log.map((e) => e.type);
  const diedAt = types.indexOf('router.died');
  const restartedAt = types.indexOf('router.restarted');
  assert.ok(diedAt >= 0 && restartedAt > diedAt, types.join(', '));
  const failedRestarts = log
    .slice(diedAt, restartedAt)
    .filter((e) => e.type === 'driver.failed' && e.operation === 'start the data plane again');
  assert.ok(
    failedRestarts.length > 0,
    `the failed restarts are recorded: ${JSON.stringify(log.map((e) => [e.type, (e as { operation?: string }).operation]))}`,
  );
  assert.match((failedRestarts[0] as { error: string }).error, /EADDRINUSE/);
});

test(
  'the admin API refuses calls without the secret; a table changed with it is noticed and re-asserted',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const { adminUrl } = proxyInfo(server);
    const before = (await (
      await fetch(`${adminUrl}/routes`, { headers: { authorization: `Bearer ${secret(server)}` } })
    ).json()) as { backends: { endpoints: string[] }[] };
    const hijack = JSON.stringify({
      backends: [{ key: '666', version: '6.6.6', weight: 100, endpoints: before.backends[0]!.endpoints }],
    });

    const anonymous = await fetch(`${adminUrl}/routes`, {
      method: 'PUT',
      body: hijack,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(anonymous.status, 401, 'a token-less PUT /routes is refused');
    assert.equal((await fetch(`${adminUrl}/routes`)).status, 401, 'so is a token-less read');
    const mode = (await import('node:fs')).statSync(join(routerDir(server), 'admin.secret')).mode & 0o777;
    assert.equal(mode, 0o600, `admin.secret has mode ${mode.toString(8)}`);

    const seq = (await events(server)).at(-1)!.seq;
    const changedAt = Date.now();
    const behindTheBack = await fetch(`${adminUrl}/routes`, {
      method: 'PUT',
      body: hijack,
      headers: { authorization: `Bearer ${secret(server)}` },
    });
    assert.equal(behindTheBack.status, 200);
    const drifted = await waitForEvent(server, 'router.drifted', seq, 5000);
    const detectedMs = Date.now() - changedAt;
    const differences = (drifted as { differences: string[] }).differences;
    assert.ok(
      differences.some((d) => /backend 666 \(6\.6\.6\) is served with 100%/.test(d)),
      differences.join('; '),
    );
    assert.ok(
      differences.some((d) => /revision 1 \(1\.0\.0\) is not served \(intended 100%\)/.test(d)),
      differences.join('; '),
    );
    const servedKeys = async () =>
      (
        (await (
          await fetch(`${adminUrl}/routes`, { headers: { authorization: `Bearer ${secret(server)}` } })
        ).json()) as { backends: { key: string; weight: number }[] }
      ).backends.map((b) => [b.key, b.weight]);
    const until = Date.now() + 5000;
    while (JSON.stringify(await servedKeys()) !== JSON.stringify([['1', 100]]) && Date.now() < until) await sleep(20);
    assert.deepEqual(await servedKeys(), [['1', 100]], 'the intended table is served again');
    const res = await fetch(`http://127.0.0.1:${listenPort}/`);
    assert.equal(res.headers.get('x-version'), '1.0.0');
    t.diagnostic(`table changed behind Sluice's back → router.drifted recorded within ${detectedMs} ms`);
    assert.equal((await server.status()).phase, 'Healthy');
  },
);
