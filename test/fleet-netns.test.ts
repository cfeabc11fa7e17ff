/**
 * A fleet on this machine, with Linux network namespaces: three hosts (namespaces, each on its own
 * veth link) run an HAProxy someone else configured, weighed by Sluice over its runtime API on TCP;
 * both versions of the service answer on an address every host routes to; Sluice and the load run
 * in the root namespace. A host whose link goes down mid-release pauses it; a bad canary is then
 * reverted on the two reachable hosts at once and on the third when its link is back; no request
 * fails on the reachable hosts. Needs root (`ip netns`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, describe, test } from 'node:test';
import { pollUntil } from '../src/drivers/routers/managed-process.ts';
import { runtimeCommand } from '../src/drivers/routers/haproxy/runtime-api.ts';
import { assertNetnsUsable, ip, netnsTag, withoutNetns } from './support/netns.ts';
import { withoutServer } from './support/servers.ts';
import { SluiceServer } from './support/sluice.ts';

const tag = netnsTag;
/** Where the service's versions answer, on the root namespace's loopback; every host routes there. */
const SERVICE_IP = '10.213.250.1';

interface Host {
  name: string;
  link: string;
  addr: string;
  admin: string;
  url: string;
  haproxy: ChildProcess;
}

async function startHost(t: TestContext, dir: string, i: number): Promise<Host> {
  const name = `sl${tag}h${i}`;
  const link = `sr${tag}${i}`;
  const peer = `sh${tag}${i}`;
  ip('netns', 'add', name);
  let haproxy: ChildProcess | null = null;
  // In this order: the host's processes, its link (and so its peer), its blackhole route if any, the namespace.
  t.after(async () => {
    if (haproxy !== null && haproxy.exitCode === null) {
      haproxy.kill('SIGKILL');
      await new Promise((r) => haproxy!.once('exit', r));
    }
    for (const args of [
      ['link', 'del', link],
      ['route', 'del', 'blackhole', `10.213.${i}.2/32`],
      ['netns', 'del', name],
    ]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  });
  ip('link', 'add', link, 'type', 'veth', 'peer', 'name', peer);
  ip('link', 'set', peer, 'netns', name);
  ip('addr', 'add', `10.213.${i}.1/24`, 'dev', link);
  ip('link', 'set', link, 'up');
  const inNs = (...args: string[]) => ip('netns', 'exec', name, 'ip', ...args);
  inNs('addr', 'add', `10.213.${i}.2/24`, 'dev', peer);
  inNs('link', 'set', peer, 'up');
  inNs('link', 'set', 'lo', 'up');
  inNs('route', 'add', 'default', 'via', `10.213.${i}.1`);
  const addr = `10.213.${i}.2`;
  const cfg = join(dir, `${name}.cfg`);
  const slots = [0, 1, 2, 3].map((s) => `  server app${s} 127.0.0.1:1 weight 0 disabled`).join('\n');
  await writeFile(
    cfg,
    `global\n  stats socket ipv4@${addr}:9999 level admin\ndefaults\n  mode http\n  option http-keep-alive\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n` +
      `  retries 2\n  option redispatch 1\nfrontend web\n  bind ${addr}:8080\n  default_backend app\nbackend app\n  balance roundrobin\n${slots}\n`,
  );
  haproxy = spawn('ip', ['netns', 'exec', name, 'haproxy', '-f', cfg], { stdio: 'ignore' });
  const admin = `${addr}:9999`;
  assert.ok(
    await pollUntil(
      () =>
        runtimeCommand(admin, 'show info').then(
          () => true,
          () => null,
        ),
      5000,
    ),
    `${name}'s haproxy answers`,
  );
  return { name, link, addr, admin, url: `http://${addr}:8080/`, haproxy };
}

/** One version of the service: answers with its version; `failing` makes it answer 500. */
async function startVersion(t: TestContext, version: string): Promise<{ url: string; fail: (on: boolean) => void }> {
  let failing = false;
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(failing ? 500 : 200, { 'x-version': version });
    res.end(version);
  });
  await new Promise<void>((resolve) => server.listen(0, SERVICE_IP, resolve));
  t.after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { url: `http://${SERVICE_IP}:${(server.address() as { port: number }).port}`, fail: (on) => (failing = on) };
}

interface Sample {
  start: number;
  status: number;
  version: string | null;
  error?: string;
}

/** Steady load on one host's frontend (support/load.ts serves loopback only): `rps` requests a second, keep-alive. */
function hostLoad(url: string, rps: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const sample: Sample = { start: Date.now(), status: 0, version: null };
    samples.push(sample);
    const done = new Promise<void>((resolve) => {
      const req = http.get(url, { agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          sample.status = res.statusCode ?? 0;
          sample.version = (res.headers['x-version'] as string | undefined) ?? null;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => ((sample.error = err.message), resolve()));
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  }, 1000 / rps);
  return {
    samples,
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      agent.destroy();
      return { sent: samples.length, failed: samples.filter((x) => x.status === 0 || x.status >= 500).length, samples };
    },
  };
}

describe('a fleet in network namespaces', { skip: withoutServer('haproxy', 'haproxy') || withoutNetns() }, () => {
  test(
    'three HAProxy hosts: a host cut off pauses the release; a bad canary is reverted on every host',
    { timeout: 120_000 },
    async (t) => {
      assertNetnsUsable();
      const dir = await mkdtemp(join(tmpdir(), 'sluice-netns-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      ip('addr', 'add', `${SERVICE_IP}/32`, 'dev', 'lo');
      t.after(() => ip('addr', 'del', `${SERVICE_IP}/32`, 'dev', 'lo'));
      const hosts = [await startHost(t, dir, 0), await startHost(t, dir, 1), await startHost(t, dir, 2)];
      const [v1, v2] = [await startVersion(t, '1.0.0'), await startVersion(t, '2.0.0')];
      const server = await SluiceServer.start();
      t.after(() => server.close());
      const spec = (version: string, url: string, steps: string) => `apiVersion: sluice.dev/v1alpha1
kind: Service
metadata: { name: checkout }
spec:
  version: "${version}"
  target: { driver: static, urls: ["${url}"] }
  router:
${hosts.map((h) => `    - { driver: haproxy, adminSocket: "${h.admin}", backend: app }`).join('\n')}
  strategy: { canary: { steps: ${steps} } }
  rollbackContract:
    interval: 250ms
    rules:
      - { signal: page, failIf: { count: 1, within: 1m } }
`;
      await server.apply(spec('1.0.0', v1.url, '[ { setWeight: 50 }, { pause: {} } ]'));
      await server.waitForPhase('Healthy', 30_000);
      const loads = hosts.map((h) => hostLoad(h.url, 40));
      t.after(() => Promise.all(loads.map((l) => l.stop())));

      await server.apply(
        spec(
          '2.0.0',
          v2.url,
          '[ { setWeight: 20 }, { pause: { duration: 2s } }, { setWeight: 60 }, { pause: { duration: 60s } } ]',
        ),
      );
      await server.waitFor((s) => s.appliedWeights['2.0.0'] === 20, 'every host at 20%', 30_000);
      // Host 1's link goes down before the next step (and nothing for it leaves by the default route).
      ip('link', 'set', hosts[1]!.link, 'down');
      ip('route', 'add', 'blackhole', `${hosts[1]!.addr}/32`);
      const paused = await server.waitFor(
        (s) => s.phase === 'Paused' && s.release?.pause?.reason === 'dataPlane',
        'paused on the cut-off host',
        20_000,
      );
      t.diagnostic(`paused: ${paused.release?.pause?.detail}`);
      assert.match(
        paused.release!.pause!.detail,
        new RegExp(`host ${hosts[1]!.admin.replaceAll('.', '\\.')} \\([\\s\\S]*\\) did not confirm the weights`),
      );
      assert.equal(paused.appliedWeights['2.0.0'], 20, 'not advanced on partial evidence');

      // The canary goes bad; a page rolls it back.
      v2.fail(true);
      await server.api('POST', '/api/services/checkout/signals', { signal: 'page', detail: 'canary answers 500' });
      const partial = await server.waitFor(
        (s) => {
          const h = s.lastRollback?.hosts;
          return h !== undefined && h[hosts[0]!.admin] != null && h[hosts[2]!.admin] != null;
        },
        'reverted on the reachable hosts',
        15_000,
      );
      assert.equal(partial.lastRollback!.hosts![hosts[1]!.admin], null);
      const reachableRevert = Math.max(
        Date.parse(partial.lastRollback!.hosts![hosts[0]!.admin]!),
        Date.parse(partial.lastRollback!.hosts![hosts[2]!.admin]!),
      );
      ip('route', 'del', 'blackhole', `${hosts[1]!.addr}/32`);
      ip('link', 'set', hosts[1]!.link, 'up');
      const done = await server.waitFor(
        (s) => s.lastRollback?.trafficRevertedAt != null,
        'reverted on every host',
        30_000,
      );
      t.diagnostic(
        `revert times: ${JSON.stringify(done.lastRollback!.hosts)}; detected ${done.lastRollback!.detectedAt}`,
      );
      assert.ok(Date.parse(done.lastRollback!.hosts![hosts[1]!.admin]!) > reachableRevert);
      await new Promise((r) => setTimeout(r, 1000));
      const revertedAt = Date.parse(done.lastRollback!.trafficRevertedAt!);
      for (const [i, l] of loads.entries()) {
        const after = l.samples.filter((s) => s.start > revertedAt + 100 && s.status !== 0);
        assert.ok(
          after.length > 10 && after.every((s) => s.version === '1.0.0' && s.status === 200),
          `host ${i}: everything on 1.0.0 after the revert`,
        );
      }
      const reports = await Promise.all(loads.map((l) => l.stop()));
      t.diagnostic(`requests per host: ${reports.map((r) => `${r.sent} sent, ${r.failed} failed`).join('; ')}`);
      // Reachable hosts: only the canary's own 500s (between its going bad and the revert) fail.
      for (const i of [0, 2]) {
        const notCanary = reports[i]!.samples.filter(
          (s) => (s.status === 0 || s.status >= 500) && s.version !== '2.0.0',
        );
        assert.deepEqual(
          notCanary.map((s) => `${s.status} ${s.error ?? ''}`),
          [],
          `host ${i}: no request failed but the bad canary's`,
        );
      }
    },
  );
});
