/**
 * Release windows on a plain service: a release asked for during a freeze waits (recorded, shown
 * in status, with why and until when), a newer spec replaces it, it starts by itself when the
 * freeze is lifted, it can be cancelled, and a rollback is never held by a window.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deployedServer, serviceSpec } from './support/sluice.ts';

const policy = (freezes: string) => `apiVersion: sluice.dev/v1alpha1
kind: ReleasePolicy
metadata: { name: ops }
spec:
  freezes:
${freezes}`;

test(
  'a freeze holds releases of the services it names; they start when it is lifted; rollbacks pass',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { instances: 1 });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const freeze = policy(
      `    - { name: peak, from: "2020-01-01T00:00:00Z", until: "${until}", reason: peak traffic, services: [checkout] }\n`,
    );
    const steps = ['setWeight: 20', 'pause: {}'];
    await server.apply(freeze);

    const [v2] = await server.apply(serviceSpec({ version: '2.0.0', listenPort, instances: 1, steps }));
    assert.equal(v2!.action, 'waiting');
    assert.match((v2 as { message?: string }).message ?? '', /freeze "peak" \(peak traffic\)/);
    let s = await server.status();
    assert.equal(s.phase, 'Healthy');
    assert.equal(s.stableVersion, '1.0.0');
    assert.equal(s.waiting?.version, '2.0.0');
    assert.equal(s.waiting?.until?.slice(0, 19), until.slice(0, 19));

    const [v3] = await server.apply(serviceSpec({ version: '3.0.0', listenPort, instances: 1, steps }));
    assert.equal(v3!.action, 'waiting');
    assert.equal((await server.status()).waiting?.version, '3.0.0', 'a newer spec replaces the waiting one');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await server.status()).canaryVersion, null, 'nothing starts while frozen');

    await server.apply(policy('    []\n'));
    s = await server.waitFor(
      (x) => x.canaryVersion === '3.0.0' && x.phase === 'Paused',
      'the waiting release started once the freeze was lifted',
      30_000,
    );
    assert.equal(s.waiting, null);
    assert.equal(s.release?.startedBy, 'e2e-test', "the release is the asker's, not the controller's");

    // A rollback is never held by a window: freeze again mid-release, then abort.
    await server.apply(freeze);
    const aborted = await server.api<{ phase: string }>('POST', '/api/services/checkout/abort', {
      reason: 'rollback during a freeze',
    });
    assert.equal(aborted.body.phase, 'Aborted');
    assert.equal((await server.waitForPhase('Aborted', 10_000)).weights['1.0.0'], 100);

    // A waiting release can be cancelled.
    const [v4] = await server.apply(serviceSpec({ version: '4.0.0', listenPort, instances: 1, steps }));
    assert.equal(v4!.action, 'waiting');
    await server.api('POST', '/api/services/checkout/abort', { reason: 'not this week' });
    assert.equal((await server.status()).waiting, null);

    const events = (
      await server.api<{ events: { type: string; outcome?: string }[] }>(
        'GET',
        '/api/services/checkout/events?limit=10000',
      )
    ).body.events;
    assert.deepEqual(
      events.filter((e) => e.type === 'release.waitEnded').map((e) => e.outcome),
      ['superseded', 'started', 'cancelled'],
    );
    const audit = await fetch(`${server.url}/api/audit/export`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    const applied = (await audit.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; freezes?: number; actor: string })
      .filter((e) => e.type === 'policy.applied');
    assert.deepEqual(
      applied.map((e) => `${e.freezes}:${e.actor}`),
      ['1:e2e-test', '0:e2e-test', '1:e2e-test'],
      'who applied and lifted each freeze is in the audit trail',
    );
  },
);
