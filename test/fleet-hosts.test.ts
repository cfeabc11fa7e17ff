/**
 * One release, many hosts: `router:` lists three HAProxies (run by "someone else", weighed over
 * their runtime APIs), and `sluice server` drives them as one. Every step is confirmed by every
 * host; a host cut off mid-release (SIGSTOP: its runtime API stops answering) pauses the release
 * instead of letting it advance on partial evidence; a rollback then lands on the two reachable
 * hosts at once and on the third when it answers again, and the rollback log shows each host's
 * revert time. No request fails on the reachable hosts.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, describe, test } from 'node:test';
import { pollUntil } from '../src/drivers/routers/managed-process.ts';
import { runtimeCommand } from '../src/drivers/routers/haproxy/runtime-api.ts';
import { startLoad } from './support/load.ts';
import { withoutServer } from './support/servers.ts';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

interface Host {
  socket: string;
  url: string;
  child: ChildProcess;
}

/** An HAProxy someone else runs: backend `app` with four empty server slots, its runtime API on a unix socket. */
async function theirHaproxy(t: TestContext, dir: string, name: string): Promise<Host> {
  const port = await freePort();
  const socket = join(dir, `${name}.sock`);
  const cfg = join(dir, `${name}.cfg`);
  const slots = [0, 1, 2, 3].map((i) => `  server app${i} 127.0.0.1:1 weight 0 disabled`).join('\n');
  await writeFile(
    cfg,
    `global\n  stats socket ${socket} level admin\ndefaults\n  mode http\n  option http-keep-alive\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n` +
      `  retries 2\n  option redispatch 1\nfrontend web\n  bind 127.0.0.1:${port}\n  default_backend app\nbackend app\n  balance roundrobin\n${slots}\n`,
  );
  const child = spawn('haproxy', ['-f', cfg], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  assert.ok(
    await pollUntil(
      () =>
        runtimeCommand(socket, 'show info').then(
          () => true,
          () => null,
        ),
      5000,
    ),
    `${name} started`,
  );
  return { socket, url: `http://127.0.0.1:${port}/`, child };
}

const contract = `    interval: 250ms
    rules:
      - { signal: page, failIf: { count: 1, within: 1m } }`;

describe('one release across several HAProxy hosts', { skip: withoutServer('haproxy', 'haproxy') }, () => {
  test(
    'every host confirms each step; a host cut off pauses the release; a rollback reaches every host, each with its revert time',
    { timeout: 120_000 },
    async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-fleet-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const hosts = [
        await theirHaproxy(t, dir, 'h0'),
        await theirHaproxy(t, dir, 'h1'),
        await theirHaproxy(t, dir, 'h2'),
      ];
      const server = await SluiceServer.start();
      t.after(() => server.close());
      const listenPort = await freePort();
      const router = `  router:\n${hosts.map((h) => `    - { driver: haproxy, adminSocket: ${h.socket}, backend: app }`).join('\n')}\n`;
      const spec = (version: string, steps: string[]) =>
        serviceSpec({ version, listenPort, instances: 1, contract, steps }).replace(
          / {2}router:\n(?: {4}.*\n)+/,
          router,
        );

      await server.apply(spec('1.0.0', ['setWeight: 50', 'pause: {}']));
      await server.waitForPhase('Healthy', 30_000);
      const loads = hosts.map((h) => startLoad({ url: h.url, rps: 40, durationMs: 100_000 }));
      t.after(() => Promise.all(loads.map((l) => l.stop())));

      await server.apply(
        spec('2.0.0', ['setWeight: 20', 'pause: { duration: 2s }', 'setWeight: 60', 'pause: { duration: 60s }']),
      );
      await server.waitFor((s) => s.appliedWeights['2.0.0'] === 20, 'every host at 20%', 30_000);
      // Every host serves the step: its canary server carries weight.
      for (const h of hosts) {
        const weights = (await runtimeCommand(h.socket, 'show servers state app'))
          .split('\n')
          .filter((l) => /^\d/.test(l))
          .map((l) => Number(l.split(' ')[7]));
        assert.equal(weights.filter((w) => w > 0).length, 2, `${h.socket} serves both versions`);
      }
      // Host 1 is cut off before the next step.
      hosts[1]!.child.kill('SIGSTOP');
      const paused = await server.waitFor(
        (s) => s.phase === 'Paused' && s.release?.pause?.reason === 'dataPlane',
        'paused on the unreachable host',
        20_000,
      );
      t.diagnostic(`paused: ${paused.release?.pause?.detail}`);
      assert.match(
        paused.release!.pause!.detail,
        new RegExp(
          `host ${hosts[1]!.socket.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(.*\\) did not confirm the weights`,
        ),
      );
      assert.equal(paused.appliedWeights['2.0.0'], 20, 'the release did not advance on partial evidence');
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal((await server.status()).phase, 'Paused', 'still paused while the host is away');

      // A bad canary (a page): reverted on the reachable hosts at once, on host 1 once it answers.
      await server.api('POST', '/api/services/checkout/signals', { signal: 'page', detail: 'on-call paged' });
      const partial = await server.waitFor(
        (s) => {
          const h = s.lastRollback?.hosts;
          return h !== undefined && h[hosts[0]!.socket] != null && h[hosts[2]!.socket] != null;
        },
        'reverted on the reachable hosts',
        15_000,
      );
      assert.equal(partial.lastRollback!.hosts![hosts[1]!.socket], null, 'host 1 not reverted yet');
      assert.equal(
        partial.lastRollback!.trafficRevertedAt,
        null,
        'the revert is complete only when every host confirmed',
      );
      const reachableRevert = Math.max(
        Date.parse(partial.lastRollback!.hosts![hosts[0]!.socket]!),
        Date.parse(partial.lastRollback!.hosts![hosts[2]!.socket]!),
      );
      await new Promise((r) => setTimeout(r, 1000));
      for (const i of [0, 2]) {
        const after = loads[i]!.samples.filter((s) => s.start > reachableRevert + 50);
        assert.ok(
          after.length > 10 && after.every((s) => s.version === '1.0.0' && s.status === 200),
          `host ${i}: everything on 1.0.0 after its revert`,
        );
      }

      hosts[1]!.child.kill('SIGCONT');
      const done = await server.waitFor(
        (s) => s.lastRollback?.trafficRevertedAt != null,
        'reverted on every host',
        20_000,
      );
      const times = done.lastRollback!.hosts!;
      t.diagnostic(`revert times: ${JSON.stringify(times)}; detected ${done.lastRollback!.detectedAt}`);
      assert.deepEqual(Object.keys(times).sort(), hosts.map((h) => h.socket).sort());
      assert.ok(Date.parse(times[hosts[1]!.socket]!) > reachableRevert, 'host 1 reverted after it came back');
      assert.ok(
        Date.parse(done.lastRollback!.trafficRevertedAt!) >= Date.parse(times[hosts[1]!.socket]!),
        'the revert is complete when the last host confirmed',
      );
      // The reachable hosts were reverted without waiting for the cut-off one.
      const revertMs = reachableRevert - Date.parse(done.lastRollback!.detectedAt);
      t.diagnostic(`detected → reverted on the reachable hosts: ${revertMs} ms`);
      assert.ok(revertMs < 1000, `the reachable hosts were reverted ${revertMs} ms after detection`);
      await new Promise((r) => setTimeout(r, 1000));
      const revertedAt = Date.parse(done.lastRollback!.trafficRevertedAt!);
      const h1 = loads[1]!.samples.filter((s) => s.start > revertedAt + 100 && s.status === 200);
      assert.ok(h1.length > 10 && h1.every((s) => s.version === '1.0.0'), 'host 1: everything on 1.0.0 once reverted');
      const reports = await Promise.all(loads.map((l) => l.stop()));
      t.diagnostic(`requests per host: ${reports.map((r) => `${r.sent} sent, ${r.failed} failed`).join('; ')}`);
      assert.equal(reports[0]!.failed + reports[2]!.failed, 0, 'no request failed on the reachable hosts');
    },
  );
});
