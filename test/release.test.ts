/**
 * End to end: a real server, real service processes, real HTTP traffic through the built-in proxy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLoad } from './support/load.ts';
import { answers, deployedServer, serviceSpec } from './support/sluice.ts';

test('a bad canary is rolled back automatically and all traffic returns to stable', { timeout: 90_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t);

  const load = startLoad({
    url: `http://127.0.0.1:${listenPort}/`,
    rps: 200,
    durationMs: 60_000,
    headers: (i) => ({ 'x-user-id': `u${i % 50}` }),
  });
  t.after(() => load.stop());
  await server.apply(
    serviceSpec({ version: '2.0.0', listenPort, env: { FAIL_RATE: '0.5' }, steps: ['setWeight: 20', 'pause: {}'] }),
  );
  const canary = await server.waitFor((s) => (s.instances['2.0.0']?.length ?? 0) === 2, 'canary running');
  const canaryUrls = canary.instances['2.0.0']!.map((i) => i.url);
  const rolledBack = await server.waitFor(
    (s) => s.phase === 'RolledBack' && s.lastRollback?.trafficRevertedAt != null,
    'rolled back',
    30_000,
  );

  const rb = rolledBack.lastRollback!;
  assert.equal(rb.trigger, 'error_rate');
  assert.equal(rb.kind, 'contract');
  // The sequential judge (the default) decides on every request since the canary started.
  assert.match(
    rb.reason,
    /error_rate canary \d+\.\d+% \(\d+\/\d+ failed\), baseline 0\.00% \(0\/\d+\): the canary is at least \d+\.\d+% at 99\.5% confidence; the rule allows at most \d+\.\d+% \(baseline \+ 2\.00%\)/,
  );
  assert.ok(rb.revertMs !== null && rb.revertMs >= 0 && rb.revertMs < 2000, `revertMs ${rb.revertMs}`);
  assert.equal(rolledBack.weights['1.0.0'], 100);
  assert.equal(rolledBack.weights['2.0.0'] ?? 0, 0);
  const failing = rb.verdicts.find((v) => v.rule === 'error_rate')!;
  assert.equal(failing.outcome, 'Fail');
  assert.equal(failing.judge, 'sequential');
  assert.ok(failing.evidence!.eValue >= failing.evidence!.eThreshold, 'the e-value crossed its threshold');
  assert.ok(failing.canarySamples > 0);

  // After the revert, every request is served by 1.0.0.
  const revertedAt = Date.parse(rb.trafficRevertedAt!);
  await new Promise((r) => setTimeout(r, 1500));
  const report = await load.stop();
  const after = report.samples.filter((s) => s.start > revertedAt + 20);
  assert.ok(after.length > 100);
  assert.ok(
    after.every((s) => s.version === '1.0.0' && s.status === 200),
    'traffic after the revert all on 1.0.0',
  );
  assert.ok((report.byVersion['2.0.0']?.failed ?? 0) > 0, 'the canary did fail some requests');
  assert.equal(report.byVersion['1.0.0']?.failed ?? 0, 0);

  // The canary's instances are drained and stopped.
  const done = await server.waitFor((s) => s.lastRollback?.canaryStoppedAt !== null, 'canary stopped');
  assert.ok(Date.parse(done.lastRollback!.canaryStoppedAt!) >= revertedAt);
  const stopped = await server.waitFor((s) => Object.keys(s.instances).join() === '1.0.0', 'canary instances gone');
  assert.deepEqual(stopped.weights, { '1.0.0': 100 });
  for (const url of canaryUrls) assert.equal(await answers(url), false, `${url} still answers`);
  const history = await server.api<{ releases: { status: string; rollback: unknown }[] }>(
    'GET',
    '/api/services/checkout/history',
  );
  assert.deepEqual(
    history.body.releases.map((r) => r.status),
    ['RolledBack', 'Succeeded'],
  );
});

test(
  'a healthy canary reaches 100% with zero failed requests, and the old revision is retired',
  { timeout: 90_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t);
    const v1 = await server.status();
    const v1Urls = v1.instances['1.0.0']!.map((i) => i.url);

    const load = startLoad({
      url: `http://127.0.0.1:${listenPort}/`,
      rps: 250,
      durationMs: 60_000,
      headers: (i): Record<string, string> => (i % 2 ? { 'x-user-id': `u${i % 40}` } : {}),
    });
    t.after(() => load.stop());
    await server.apply(serviceSpec({ version: '2.0.0', listenPort }));
    const seen = new Set<string>();
    const healthy = await server.waitFor(
      (s) => {
        for (const [v, w] of Object.entries(s.weights)) seen.add(`${v}=${w}`);
        return s.phase === 'Healthy' && s.stableVersion === '2.0.0';
      },
      'v2 stable',
      45_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const report = await load.stop();

    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.byVersion)}`);
    assert.ok(report.ok > 1000);
    assert.ok((report.byVersion['2.0.0']?.ok ?? 0) > 100);
    assert.ok(seen.has('2.0.0=20') && seen.has('2.0.0=60'), `weights seen: ${[...seen].join(' ')}`);
    assert.equal(healthy.weights['2.0.0'], 100);
    assert.ok(healthy.verdicts.every((v) => v.outcome === 'Pass'));
    const retired = await server.waitFor((s) => Object.keys(s.instances).join() === '2.0.0', 'v1 stopped');
    assert.deepEqual(retired.weights, { '2.0.0': 100 });
    for (const url of v1Urls) assert.equal(await answers(url), false, `${url} still answers`);
  },
);

test('sticky users stay on their version as the canary grows', { timeout: 60_000 }, async (t) => {
  const { server, listenPort } = await deployedServer(t);
  await server.apply(
    serviceSpec({ version: '2.0.0', listenPort, steps: ['setWeight: 10', 'pause: {}', 'setWeight: 50', 'pause: {}'] }),
  );
  await server.waitFor((s) => s.phase === 'Paused' && s.weights['2.0.0'] === 10, 'paused at 10%');
  const versionOf = async (user: string) =>
    (await fetch(`http://127.0.0.1:${listenPort}/`, { headers: { 'x-user-id': user } })).headers.get('x-version');
  const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
  const at10 = new Map<string, string | null>();
  for (const u of users) at10.set(u, await versionOf(u));
  const canaryAt10 = users.filter((u) => at10.get(u) === '2.0.0');
  assert.ok(canaryAt10.length > 5 && canaryAt10.length < 45, `${canaryAt10.length} of 200 users on the canary at 10%`);
  for (const u of users.slice(0, 40)) assert.equal(await versionOf(u), at10.get(u), `${u} moved`);

  assert.equal((await server.api('POST', '/api/services/checkout/promote', {})).status, 200);
  await server.waitFor((s) => s.weights['2.0.0'] === 50, 'weight 50');
  const canaryAt50 = [];
  for (const u of users) if ((await versionOf(u)) === '2.0.0') canaryAt50.push(u);
  for (const u of canaryAt10) assert.ok(canaryAt50.includes(u), `${u} left the canary when it grew`);
  assert.ok(
    canaryAt50.length > 70 && canaryAt50.length < 130,
    `${canaryAt50.length} of 200 users on the canary at 50%`,
  );
});
