/**
 * The data plane stays up when the control plane does not: SIGKILL the server mid-release under
 * load, keep the traffic going, restart it, and see the release resume to the right end.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLoad } from './support/load.ts';
import { deployedServer, serviceSpec, type SluiceServer } from './support/sluice.ts';

const proxyPid = (server: SluiceServer) =>
  (JSON.parse(readFileSync(join(server.dataDir, 'services/checkout/router/proxy.json'), 'utf8')) as { pid: number })
    .pid;

/**
 * The pid of the process listening on 127.0.0.1:`port`, found from /proc (the socket's inode in
 * /proc/net/tcp, then the process holding it), not from anything Sluice records.
 */
function listenerPid(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]!); // 0A: LISTEN
  }
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(pid);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return null;
}

/** Each instance URL with the pid serving it: a restarted instance has another pid, even on the same port. */
const instancePids = (instances: Record<string, { url: string }[]>) =>
  Object.values(instances)
    .flat()
    .map(({ url }) => `${url} pid ${listenerPid(Number(new URL(url).port))}`)
    .sort();

test(
  'a controller killed mid-release loses no request, and the release resumes to 100% after restart',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 200, durationMs: 90_000 });
    t.after(() => load.stop());

    await server.apply(
      serviceSpec({
        version: '2.0.0',
        listenPort,
        steps: ['setWeight: 20', 'pause: { duration: 4s }', 'setWeight: 60', 'pause: { duration: 3s }'],
      }),
    );
    const before = await server.waitFor((s) => s.weights['2.0.0'] === 20, 'canary at 20%');
    const pidBefore = proxyPid(server);
    const instancesBefore = JSON.stringify(before.instances);
    const pidsBefore = instancePids(before.instances);
    assert.equal(pidsBefore.length, 4, 'two instances of each version');
    assert.ok(
      pidsBefore.every((p) => !p.endsWith('pid null')),
      pidsBefore.join(', '),
    );

    await server.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2500));
    const whileDead = load.samples.filter((s) => s.start > killedAt);
    assert.ok(whileDead.length > 300, `${whileDead.length} requests while the controller was dead`);
    assert.ok(
      whileDead.every((s) => s.status === 200),
      'every request served while the controller was dead',
    );
    assert.ok(
      whileDead.some((s) => s.version === '2.0.0') && whileDead.some((s) => s.version === '1.0.0'),
      'the last split kept serving',
    );

    await server.restart();
    const resumed = await server.status();
    assert.equal(resumed.phase, 'Progressing');
    assert.equal(resumed.canaryVersion, '2.0.0');
    assert.equal(
      JSON.stringify(resumed.instances),
      instancesBefore,
      'the same instances (ids and URLs) after the restart',
    );
    assert.deepEqual(
      instancePids(resumed.instances),
      pidsBefore,
      'instances were re-adopted, not restarted: the same processes serve them',
    );
    const done = await server.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0' && Object.keys(s.instances).join() === '2.0.0',
      'v2 stable',
      45_000,
    );
    assert.deepEqual(done.weights, { '2.0.0': 100 });
    assert.equal(proxyPid(server), pidBefore, 'the same proxy process served throughout');

    const report = await load.stop();
    assert.equal(report.failed, 0, `failed: ${JSON.stringify(report.byVersion)}`);
    assert.ok((report.byVersion['2.0.0']?.ok ?? 0) > 500);
    const history = await server.api<{ releases: { status: string }[] }>('GET', '/api/services/checkout/history');
    assert.deepEqual(
      history.body.releases.map((r) => r.status),
      ['Succeeded', 'Succeeded'],
    );
  },
);

test(
  'a bad canary whose controller died is rolled back once the controller is back',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 200, durationMs: 90_000 });
    t.after(() => load.stop());

    // A contract whose window and sample minimum cannot be met before the kill.
    const contract = `    interval: 250ms
    window: 10s
    minSamples: 150
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }`;
    await server.apply(
      serviceSpec({
        version: '2.0.0',
        listenPort,
        env: { FAIL_RATE: '0.5' },
        steps: ['setWeight: 20', 'pause: {}'],
        contract,
      }),
    );
    await server.waitFor((s) => s.weights['2.0.0'] === 20, 'canary at 20%');
    await server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await server.restart();
    const rolledBack = await server.waitFor(
      (s) => s.phase === 'RolledBack' && s.lastRollback?.canaryStoppedAt != null,
      'rolled back',
      30_000,
    );
    assert.equal(rolledBack.lastRollback!.trigger, 'error_rate');
    assert.deepEqual(rolledBack.weights, { '1.0.0': 100 });
    await new Promise((r) => setTimeout(r, 500));
    const report = await load.stop();
    assert.equal(report.byVersion['1.0.0']?.failed ?? 0, 0, 'stable never failed');
    const revertedAt = Date.parse(rolledBack.lastRollback!.trafficRevertedAt!);
    assert.ok(report.samples.filter((s) => s.start > revertedAt + 20).every((s) => s.version === '1.0.0'));
  },
);
