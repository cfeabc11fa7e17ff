/**
 * Game days behind a managed HAProxy (docs/drills.md, docs/routers.md#faults): a real server, the
 * example service, HAProxy with its access log read by the access-log provider, real traffic from
 * the load generator. A 100% 503 on the canary goes through haproxy's runtime API (no reload): the
 * load generator sees it, the access-log metrics see it (the contract rolls the canary back on
 * them); a reset then a latency for a cohort of users (the Lua script) hit the same users; the
 * safety lever removes a fault within 1 s; a SIGKILLed controller's fault ends at its lease by
 * haproxy's own clock.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { DrillRecord } from '../src/core/drills/record.ts';
import { runtimeCommand } from '../src/drivers/routers/haproxy/runtime-api.ts';
import { startLoad } from './support/load.ts';
import { withoutServer } from './support/servers.ts';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

function drill(name: string, url: string, fault: string, before = '1s'): string {
  return `apiVersion: sluice.dev/v1alpha1
kind: GameDay
metadata: { name: ${name} }
spec:
  service: checkout
  hypothesis:
    probes:
      - { name: home, http: { url: "${url}", expectStatus: 200 }, every: 200ms, tolerance: 50% }
  method:
    - fault: ${fault}
  steadyState: { before: ${before}, after: 1s }
`;
}

describe('game days behind haproxy', { skip: withoutServer('haproxy', 'haproxy') }, () => {
  async function haproxyServer(t: import('node:test').TestContext) {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const [listenPort, logPort] = [await freePort(), await freePort()];
    const spec = (version: string, steps: string[]) =>
      serviceSpec({ version, listenPort, instances: 1, steps })
        .replace('    driver: builtin\n', `    driver: haproxy\n    accessLog: 127.0.0.1:${logPort}\n`)
        .replace('  strategy:\n', `  metrics: { provider: access-log, listen: 127.0.0.1:${logPort} }\n  strategy:\n`);
    await server.apply(spec('1.0.0', ['setWeight: 10', 'pause: {}']));
    await server.waitForPhase('Healthy', 30_000);
    const socket = join(server.dataDir, 'services', 'checkout', 'router', 'haproxy', 'admin.sock');
    const worker = async () => /^Pid: (\d+)$/m.exec(await runtimeCommand(socket, 'show info'))?.[1];
    return { server, spec, url: `http://127.0.0.1:${listenPort}/`, worker };
  }

  test(
    '100% 503 on a 10% canary through the runtime API: the load generator and the access-log metrics see it, the contract rolls it back, the drill passes; no reload',
    { timeout: 120_000 },
    async (t) => {
      const { server, spec, url, worker } = await haproxyServer(t);
      await server.apply(spec('2.0.0', ['setWeight: 10', 'pause: {}']));
      await server.waitFor((s) => s.appliedWeights['2.0.0'] === 10, 'the canary at 10%');
      const pid = await worker();
      const load = startLoad({ url, rps: 200, durationMs: 60_000 });
      t.after(() => load.stop());
      const r = await server.api<DrillRecord>('POST', '/api/gamedays/run', {
        spec: drill('canary-errors', url, '{ target: canary, errors: 503, percent: 100, for: 30s }'),
        file: 'drill.yaml',
        wait: true,
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await load.stop();
      const record = r.body;
      const failures = load.samples.filter((s) => s.status === 503);
      const status = await server.status();
      t.diagnostic(
        `drill ${record.status}: detect ${record.timeToDetectMs} ms, restore ${record.timeToRestoreMs} ms, ` +
          `${record.faults[0]?.hits} hits; the load generator saw ${failures.length} 503s of ${load.samples.length}; ` +
          `rollback: ${status.lastRollback?.reason}`,
      );
      assert.equal(record.status, 'passed', record.detail ?? '');
      assert.ok(failures.length >= 3, `the load generator saw ${failures.length} injected 503s`);
      assert.ok(
        failures.every((s) => s.version === undefined || s.version === null || s.version === '2.0.0'),
        'only the canary was faulted',
      );
      // The contract's rollback was decided on the access-log metrics: the canary's 503s.
      assert.equal(status.lastRollback?.trigger, 'error_rate');
      assert.match(status.lastRollback?.reason ?? '', /error_rate canary \d+\.\d+% \(\d+\/\d+ failed\)/);
      assert.equal(await worker(), pid, 'the same haproxy worker served throughout: no reload');
      const lastFail = Math.max(...failures.map((s) => s.start));
      assert.equal(
        load.samples.filter((s) => s.status >= 500 && s.start > lastFail).length,
        0,
        'no error after the last faulted request',
      );
    },
  );

  test(
    'a reset then a latency for a cohort of users through the Lua script: the load generator sees failed connections, then held answers, of the same users only; the drill passes; no reload',
    { timeout: 120_000 },
    async (t) => {
      const { server, url, worker } = await haproxyServer(t);
      const pid = await worker();
      const users = (i: number) => ({ 'x-user-id': `user-${i % 40}` });
      const load = startLoad({ url, rps: 100, durationMs: 60_000, headers: users });
      t.after(() => load.stop());
      const spec = drill(
        'stable-cohort',
        url,
        '{ target: stable, latency: 300ms, cohort: { header: x-user-id, percent: 50 }, for: 2s }',
        '500ms',
      ).replace(
        '    - fault: { target: stable, latency',
        '    - fault: { target: stable, errors: reset, cohort: { header: x-user-id, percent: 50 }, for: 1s }\n    - fault: { target: stable, latency',
      );
      // The reset step first, then the latency step.
      const steps = spec.split('\n').filter((l) => l.startsWith('    - fault:'));
      assert.equal(steps.length, 2, spec);
      const r = await server.api<DrillRecord>('POST', '/api/gamedays/run', { spec, file: 'drill.yaml', wait: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await load.stop();
      const record = r.body;
      const held = load.samples.filter((s) => s.status === 200 && s.end - s.start >= 299);
      const resets = load.samples.filter((s) => s.status === 0);
      const user = (s: { i: number }) => `user-${s.i % 40}`;
      const heldUsers = new Set(held.map(user));
      const resetUsers = new Set(resets.map(user));
      t.diagnostic(
        `drill ${record.status}: ${record.faults.map((f) => `${f.id} ${f.hits} hits`).join(', ')}; the load generator saw ${resets.length} failed connections (${resetUsers.size} users) and ${held.length} answers held ≥ 300 ms (${heldUsers.size} users) of ${load.samples.length}`,
      );
      assert.equal(record.status, 'passed', record.detail ?? '');
      // haproxy's hit counts are what the load generator saw (the probes send no x-user-id: in no cohort).
      assert.deepEqual(
        record.faults.map((f) => f.hits),
        [resets.length, held.length],
      );
      assert.ok(resets.length >= 5 && held.length >= 5, `${resets.length} resets, ${held.length} held`);
      assert.deepEqual([...heldUsers].sort(), [...resetUsers].sort(), 'the same cohort both times');
      assert.ok(heldUsers.size >= 8 && heldUsers.size <= 32, `${heldUsers.size} of 40 users in a 50% cohort`);
      assert.equal(await worker(), pid, 'the same haproxy worker served throughout: no reload');
    },
  );

  test(
    "the safety lever removes haproxy's fault within 1 s under load; a SIGKILLed controller's fault ends at its lease by haproxy's clock",
    { timeout: 120_000 },
    async (t) => {
      const { server, url } = await haproxyServer(t);
      const load = startLoad({ url, rps: 200, durationMs: 60_000 });
      t.after(() => load.stop());
      const spec = drill('stable-errors', url, '{ target: stable, errors: 500, percent: 20, for: 60s }', '200ms');
      assert.equal((await server.api('POST', '/api/gamedays/run', { spec, file: 'drill.yaml' })).status, 202);
      const until = Date.now() + 10_000;
      while (load.samples.filter((s) => s.status === 500).length < 20) {
        assert.ok(Date.now() < until, 'the fault never showed in the traffic');
        await new Promise((r) => setTimeout(r, 50));
      }
      const pulled = performance.timeOrigin + performance.now();
      const stop = await server.api<{ stopped: string[]; removed: number; ms: number }>('POST', '/api/gamedays/stop', {
        all: true,
      });
      assert.equal(stop.status, 200);
      // The drill's own cleanup (started by the same lever) may have removed it first.
      assert.ok(stop.body.removed <= 1, JSON.stringify(stop.body));
      await new Promise((r) => setTimeout(r, 1500));
      const faulted = load.samples.filter((s) => s.status === 500);
      const lastFault = Math.max(...faulted.map((s) => s.start));
      t.diagnostic(
        `safety lever: answered in ${stop.body.ms} ms; last faulted request ${(lastFault - pulled).toFixed(0)} ms after it (${faulted.length} faulted)`,
      );
      assert.ok(
        lastFault - pulled <= 1000,
        `the last faulted request came ${(lastFault - pulled).toFixed(0)} ms after`,
      );
      const aborted = await server.api<DrillRecord>('GET', '/api/gamedays/stable-errors?run=1');
      assert.equal(aborted.body.status, 'aborted');

      // A controller killed mid-drill: its fault ends at its lease (3 s) by haproxy's clock.
      await load.stop();
      const again = drill('stable-errors', url, '{ target: stable, errors: 500, percent: 100, for: 60s }', '200ms');
      assert.equal((await server.api('POST', '/api/gamedays/run', { spec: again, file: 'drill.yaml' })).status, 202);
      const failing = Date.now() + 10_000;
      while (
        (await fetch(url).then(
          (r) => r.status,
          () => 0,
        )) !== 500
      ) {
        assert.ok(Date.now() < failing, 'the fault never showed');
        await new Promise((r) => setTimeout(r, 50));
      }
      const map = await readFile(
        join(server.dataDir, 'services', 'checkout', 'router', 'haproxy', 'faults.map'),
        'utf8',
      );
      assert.equal(map, '', 'the fault is in haproxy memory only, never in the map file');
      await server.kill('SIGKILL');
      const killedAt = Date.now();
      while (
        (await fetch(url).then(
          (r) => r.status,
          () => 0,
        )) !== 200
      ) {
        assert.ok(Date.now() - killedAt < 3500, 'the fault outlived its controller by more than its 3 s lease');
        await new Promise((r) => setTimeout(r, 20));
      }
      t.diagnostic(`controller SIGKILLed: the fault ended ${Date.now() - killedAt} ms later (lease 3 s)`);
      await server.restart();
    },
  );
});
