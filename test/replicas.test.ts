/**
 * Two `sluice server` replicas on one PostgreSQL, sharing a data dir on this machine: the release
 * runs on the replica holding its lease; SIGKILL that replica mid-canary under real traffic
 * through the built-in proxy and the other takes over within 5 s, the release ends where it
 * should, and no request fails.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLoad } from './support/load.ts';
import { TestPostgres, withoutPostgres } from './support/postgres.ts';
import { CLI, freePort, killLeftovers, serviceSpec, SluiceServer } from './support/sluice.ts';

const skip = withoutPostgres();
const storeUrls = new WeakMap<SluiceServer, string>();

async function replicas(t: {
  after: (fn: () => Promise<void>) => void;
}): Promise<{ a: SluiceServer; b: SluiceServer; pg: TestPostgres }> {
  const pg = await TestPostgres.start();
  t.after(() => pg.stop());
  const url = await pg.createDatabase();
  const a = await SluiceServer.start({ args: ['--store', url, '--replica-id', 'a'] });
  storeUrls.set(a, url);
  const b = await SluiceServer.start({
    args: ['--store', url, '--replica-id', 'b'],
    dataDir: a.dataDir,
    token: a.token,
  });
  t.after(async () => {
    await Promise.all([a.kill('SIGKILL'), b.kill('SIGKILL')]);
    killLeftovers(a.dataDir);
    rmSync(a.dataDir, { recursive: true, force: true });
  });
  return { a, b, pg };
}

/** 1.0.0 stable under 100 requests/s through the proxy, then 2.0.0 released on replica `a` and at 20%. */
async function canaryUnderLoad(
  t: { after: (fn: () => unknown) => void },
  a: SluiceServer,
  canary: { steps: string[]; env?: Record<string, string> },
) {
  const listenPort = await freePort();
  await a.apply(serviceSpec({ version: '1.0.0', listenPort }));
  await a.waitForPhase('Healthy');
  const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 100, durationMs: 90_000 });
  t.after(() => load.stop());
  await a.apply(serviceSpec({ version: '2.0.0', listenPort, ...canary }));
  const atCanary = await a.waitFor((s) => s.weights['2.0.0'] === 20, 'canary at 20%');
  return { listenPort, load, atCanary };
}

test(
  'the replica owning a release is killed mid-canary: the other takes over within 5 s and no request fails',
  { skip, timeout: 150_000 },
  async (t) => {
    const { a, b } = await replicas(t);
    const { load } = await canaryUnderLoad(t, a, {
      steps: ['setWeight: 20', 'pause: { duration: 5s }', 'setWeight: 60', 'pause: { duration: 2s }'],
    });
    const seenByB = await b.status();
    assert.deepEqual(
      seenByB.controller,
      { replica: 'a', epoch: seenByB.controller!.epoch },
      'b serves the status and names the owner',
    );
    assert.equal(seenByB.phase, 'Progressing');
    // b's live clients see a's events; a command sent to b is carried out by a, through the log.
    const stream = await fetch(`${b.url}/api/events?service=checkout`, {
      headers: { authorization: `Bearer ${b.token}` },
    });
    const reader = stream.body!.getReader();
    const paused = await b.api<{ release: { status: string } }>('POST', '/api/services/checkout/pause', {});
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal((await a.status()).release?.status, 'Paused', 'a, which runs the release, paused it');
    assert.equal((await b.api('POST', '/api/services/checkout/resume', {})).status, 200);
    let seen = '';
    const readUntil = Date.now() + 10_000;
    while (!(seen.includes('release.paused') && seen.includes('release.resumed')) && Date.now() < readUntil) {
      const chunk = await reader.read();
      if (chunk.done) break;
      seen += new TextDecoder().decode(chunk.value);
    }
    await reader.cancel();
    assert.match(seen, /event: release\.paused/, 'b streams the pause a recorded');
    assert.match(seen, /event: release\.resumed/);

    await a.kill('SIGKILL');
    const killedAt = Date.now();
    const taken = await b.waitFor((s) => s.controller?.replica === 'b', 'b holds the lease', 10_000);
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs < 5000, `taken over in ${takeoverMs} ms`);
    assert.ok(taken.controller!.epoch > seenByB.controller!.epoch, 'a new epoch');

    const done = await b.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0' && Object.keys(s.instances).join() === '2.0.0',
      'v2 stable on b, v1 stopped',
      45_000,
    );
    assert.deepEqual(done.weights, { '2.0.0': 100 });
    const report = await load.stop();
    assert.ok(report.sent > 1000, `${report.sent} requests`);
    const failures = load.samples
      .filter((x) => x.status !== 200)
      .map((x) => ({ at: x.start - killedAt, status: x.status, error: x.error, skipped: x.skipped }));
    assert.equal(
      report.failed,
      0,
      `failed: ${JSON.stringify(report.byVersion)}; ms after the kill, and why: ${JSON.stringify(failures)}`,
    );
    const history = await b.history();
    assert.deepEqual(
      history.map((r) => r.status),
      ['Succeeded', 'Succeeded'],
    );
    const served = JSON.parse(readFileSync(join(b.dataDir, 'services/checkout/router/routes.json'), 'utf8')) as {
      epoch?: number;
    };
    assert.equal(
      served.epoch,
      taken.controller!.epoch,
      "the proxy serves the table set under b's epoch (a lower one would be refused)",
    );
    t.diagnostic(`takeover after SIGKILL: ${takeoverMs} ms`);
  },
);

test(
  'a bad canary whose owner is killed at the moment of failure is rolled back by the other replica within lease time + 1 s',
  { skip, timeout: 150_000 },
  async (t) => {
    const { a, b } = await replicas(t);
    const { load } = await canaryUnderLoad(t, a, {
      steps: ['setWeight: 20', 'pause: { duration: 60s }'],
      env: { FAIL_RATE: '0.5', FAIL_AFTER_MS: '4000' },
    });
    // The owner dies as the canary's first failures are served (polled every 5 ms).
    const until = Date.now() + 30_000;
    while (!load.samples.some((s) => s.version === '2.0.0' && s.status >= 500) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 5));
    await a.kill('SIGKILL');
    const killedAt = Date.now();

    const rolledBack = await b.waitFor(
      (s) => s.phase === 'RolledBack' && s.lastRollback?.trafficRevertedAt != null,
      'rolled back on b',
      30_000,
    );
    const revertedAfterKill = Date.parse(rolledBack.lastRollback!.trafficRevertedAt!) - killedAt;
    assert.equal(rolledBack.weights['1.0.0'], 100);
    assert.equal(rolledBack.controller?.replica, 'b');
    assert.ok(
      revertedAfterKill <= 3000 + 1000,
      `traffic reverted ${revertedAfterKill} ms after the owner was killed (lease 3 s + 1 s allowed)`,
    );
    t.diagnostic(`traffic reverted ${revertedAfterKill} ms after the owner died at the canary's first failure`);
    await load.stop();
  },
);

test(
  "tokens are shared; a second replica with a live replica's id is refused; a server whose database is down says so and starts once it is back",
  { skip, timeout: 120_000 },
  async (t) => {
    const { a, b, pg } = await replicas(t);
    const dbUrl = storeUrls.get(a)!;
    // Tokens live in the shared database: one made on b authenticates on a.
    const fromB = await b.createToken('viewer', 'made-on-b');
    let whoami = 0;
    for (let i = 0; i < 100 && whoami !== 200; i++) {
      whoami = (await fetch(`${a.url}/api/whoami`, { headers: { authorization: `Bearer ${fromB}` } })).status;
      if (whoami !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(whoami, 200, 'a token made on replica b is accepted by replica a');
    // Another machine (its own data dir) starting with a's id.
    await assert.rejects(
      SluiceServer.start({ args: ['--store', dbUrl, '--replica-id', 'a'], token: a.token }),
      (err: Error) => {
        assert.match(
          err.message,
          /replica id "a" is in use by another live sluice server on this database; give this one another --replica-id \(or stop the other\)/,
        );
        return true;
      },
    );

    await pg.pause();
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [CLI, 'server', '--data-dir', a.dataDir, '--port', String(port), '--store', dbUrl, '--replica-id', 'c'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(() => {
      child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const until = Date.now() + 20_000;
    while (!stderr.includes('trying again in 2 s') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.match(
      stderr,
      /sluice: cannot reach PostgreSQL at postgres:\/\/sluice@127\.0\.0\.1:\d+\/\S+: connection refused \(is it running and listening there\?\); trying again in 2 s/,
    );
    await pg.resume();
    const started = Date.now() + 30_000;
    let up = false;
    while (!up && Date.now() < started) {
      up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, `the server started once the database was back:\n${stderr}`);
  },
);

test(
  "a replica paused past its lease wakes up late and cannot act: the new owner's epoch stays in force at the router",
  { skip, timeout: 150_000 },
  async (t) => {
    const { a, b } = await replicas(t);
    const { load, atCanary: before } = await canaryUnderLoad(t, a, {
      steps: ['setWeight: 20', 'pause: { duration: 4s }', 'setWeight: 60', 'pause: { duration: 2s }'],
    });
    process.kill(a.pid!, 'SIGSTOP');
    t.after(() => {
      try {
        process.kill(a.pid!, 'SIGCONT');
      } catch {
        /* gone */
      }
    });
    const taken = await b.waitFor((s) => s.controller?.replica === 'b', 'b holds the lease while a is paused', 15_000);
    assert.ok(taken.controller!.epoch > before.controller!.epoch);
    await b.waitFor((s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0', 'v2 stable on b', 45_000);
    process.kill(a.pid!, 'SIGCONT');
    // a wakes up with a lease it lost: it must neither write nor set the router's table.
    await new Promise((r) => setTimeout(r, 4000));
    const served = JSON.parse(readFileSync(join(b.dataDir, 'services/checkout/router/routes.json'), 'utf8')) as {
      epoch?: number;
      backends: { version: string; weight: number }[];
    };
    assert.equal(served.epoch, taken.controller!.epoch, "the router still serves the new owner's table");
    assert.deepEqual(
      served.backends.map((x) => [x.version, x.weight]),
      [['2.0.0', 100]],
    );
    const after = await b.status();
    assert.equal(after.controller?.replica, 'b');
    assert.deepEqual(after.weights, { '2.0.0': 100 });
    assert.match(a.log, /stopped acting for the service: its lease is no longer ours/);
    const report = await load.stop();
    assert.equal(report.failed, 0, `failed: ${JSON.stringify(report.byVersion)}`);
  },
);
