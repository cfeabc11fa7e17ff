/**
 * Approvals against a real server with real tokens: four-eyes (an author cannot approve or
 * override their own release), roles, approvals expiring when the version or the spec changes,
 * and high risk (derived from a label) asking for one more approval.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callAs, envSpec, gate, type ErrorAnswer, type PlanAnswer } from './support/environments.ts';
import { freePort, SluiceServer } from './support/sluice.ts';

test('approvals: four-eyes, roles, expiry, risk', { timeout: 120_000 }, async (t) => {
  const server = await SluiceServer.start();
  t.after(() => server.close());
  const [stagingPort, productionPort] = [await freePort(), await freePort()];
  const ann = await server.createToken('approver', 'ann');
  const bob = await server.createToken('approver', 'bob');
  const carl = await server.createToken('approver', 'carl');
  const dora = await server.createToken('deployer', 'dora');
  const vera = await server.createToken('viewer', 'vera');
  const spec = (version: string, extra: Partial<Parameters<typeof envSpec>[0]> = {}) =>
    envSpec({ version, stagingPort, productionPort, approvals: 1, labels: { team: 'payments' }, ...extra });
  const approve = (token: string, comment?: string) =>
    callAs<PlanAnswer & ErrorAnswer>(server, token, 'POST', '/api/services/shop/approve', {
      environment: 'production',
      ...(comment && { comment }),
    });
  const request = (token: string, version: string) =>
    callAs<PlanAnswer & ErrorAnswer>(server, token, 'POST', '/api/services/shop/releases', {
      version,
      to: 'production',
    });

  // Two versions complete in staging, so that promotions of either can be asked for.
  for (const v of ['1.0.0', '1.1.0']) {
    await server.apply(spec(v));
    await server.waitFor(
      (s) => (s.phase === 'Healthy' && s.stableVersion === v) || s.phase === 'Paused',
      `staging ${v}`,
      30_000,
      'shop--staging',
    );
    if ((await server.status('shop--staging')).phase === 'Paused')
      await server.api('POST', '/api/services/shop--staging/promote', { full: true });
    await server.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === v,
      `staging on ${v}`,
      30_000,
      'shop--staging',
    );
  }

  await t.test('nothing to approve before a release is asked for', async () => {
    const r = await approve(bob);
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, /no release of shop to production is waiting; ask for one first/);
  });

  await t.test('high risk (label payments) needs one more approval than the environment asks', async () => {
    const r = await request(ann, '1.0.0');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const g = gate(r.body, 'approvals');
    assert.equal(g?.outcome, 'waiting');
    assert.equal(g?.evidence.required, 2);
    assert.match(g!.detail, /0 of 2 approval\(s\) from role approver \(not ann, the author\)/);
  });

  await t.test('four-eyes: the author cannot approve their own release, nor override its gates', async () => {
    const r = await approve(ann);
    assert.equal(r.status, 403);
    assert.match(
      r.body.error.message,
      /ann requested this release of 1\.0\.0 to production and cannot approve it \(four-eyes\)/,
    );
    const o = await callAs<ErrorAnswer>(server, ann, 'POST', '/api/services/shop/override', {
      environment: 'production',
      gate: 'approvals',
      reason: 'I am sure about this one',
    });
    assert.equal(o.status, 403);
    assert.match(o.body.error.message, /cannot override its gates \(four-eyes\)/);
  });

  await t.test('roles: a deployer or a viewer cannot approve', async () => {
    assert.equal((await approve(dora)).status, 403);
    assert.equal((await approve(vera)).status, 403);
  });

  await t.test('an approval counts once per person; it expires when another version is asked for', async () => {
    const first = await approve(bob, 'checked the dashboards');
    assert.equal(first.status, 200);
    assert.deepEqual(gate(first.body, 'approvals')?.evidence.approvedBy, ['bob']);
    assert.equal((await approve(bob)).status, 403, 'bob again');
    const next = await request(ann, '1.1.0');
    assert.equal(next.status, 202);
    assert.deepEqual(gate(next.body, 'approvals')?.evidence.approvedBy, [], 'bob approved 1.0.0, not 1.1.0');
  });

  await t.test('an approval expires when the spec changes; two fresh approvals start the release', async () => {
    assert.equal((await approve(bob)).status, 200);
    // A change of production's contract: what would run is not what bob approved.
    await server.apply(
      spec('1.1.0', {
        production: [
          'rollbackContract: { interval: 250ms, minSamples: 10, rules: [ { metric: error_rate, failIf: { above: baseline, by: 0.05 } } ] }',
        ],
      }),
    );
    const r = await approve(carl);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.outcome, 'waiting');
    assert.deepEqual(gate(r.body, 'approvals')?.evidence.approvedBy, ['carl']);
    assert.ok(!r.body.plan.detail.includes('bob'));
    const done = await approve(bob, 'looked again at the new contract');
    assert.equal(done.body.outcome, 'started', JSON.stringify(done.body));
    const s = await server.waitForPhase('Healthy', 30_000, 'shop--production');
    assert.equal(s.stableVersion, '1.1.0');
    assert.equal(s.release?.startedBy, 'ann');
  });

  await t.test(
    'after a restart of the control plane, the plans and their gates are read back from the log',
    async () => {
      const before = await server.api<{ environments: { plan: unknown }[] }>('GET', '/api/services/shop/environments');
      await server.kill('SIGTERM');
      await server.restart();
      const after = await server.api<{ environments: { plan: unknown }[] }>('GET', '/api/services/shop/environments');
      assert.equal(after.status, 200);
      assert.deepEqual(
        after.body.environments.map((e) => e.plan),
        before.body.environments.map((e) => e.plan),
      );
      const r = await approve(carl);
      assert.match(r.body.error.message, /no release of shop to production is waiting/);
    },
  );
});
