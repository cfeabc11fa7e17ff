/**
 * The two ways a deployer alone once shipped to production past four-eyes (issue 10), against a
 * real server with real tokens: (1) a plain Service named like an environment's service
 * (`shop--production`), (2) re-applying the spec without `approvals`, then asking for a release.
 * Both are refused at the one apply entry; an approver may still change governance fields.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callAs, envSpec, gate, type ErrorAnswer, type PlanAnswer } from './support/environments.ts';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

test('four-eyes: no deployer alone reaches a gated environment', { timeout: 90_000 }, async (t) => {
  const server = await SluiceServer.start();
  t.after(() => server.close());
  const [stagingPort, productionPort] = [await freePort(), await freePort()];
  const dora = await server.createToken('deployer', 'dora');
  const alice = await server.createToken('approver', 'alice');
  const spec = (version: string, approvals?: number) =>
    envSpec({ version, stagingPort, productionPort, ...(approvals !== undefined && { approvals }) });
  const apply = (token: string, text: string) =>
    callAs<{ results?: { service: string; action: string }[] } & ErrorAnswer>(server, token, 'POST', '/api/apply', {
      spec: text,
      file: 'shop.yaml',
    });

  assert.equal((await apply(dora, spec('1.0.0', 1))).status, 200, 'a deployer may create the service');
  await server.waitForPhase('Healthy', 30_000, 'shop--staging');

  await t.test("a plain Service named like an environment's service is refused, naming the field", async () => {
    const plain = serviceSpec({ name: 'shop--production', version: '6.6.6', listenPort: productionPort, instances: 1 });
    const r = await apply(dora, plain);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(
      r.body.error.message,
      /metadata\.name "shop--production".*"--" is reserved for environments' services/,
    );
    assert.equal((await server.api('GET', '/api/services/shop--production')).status, 404, 'nothing runs in production');
    // Not even an admin: the name belongs to the environment.
    assert.equal((await server.api('POST', '/api/apply', { spec: plain, file: 'x.yaml' })).status, 400);
  });

  await t.test('a deployer cannot drop approvals; a release still waits for one', async () => {
    const r = await apply(dora, spec('1.0.0'));
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.match(r.body.error.message, /dora \(deployer\) cannot change spec\.environments\[production\]\.approvals/);
    assert.match(r.body.error.message, /approver or admin/);
    const asked = await callAs<PlanAnswer & ErrorAnswer>(server, dora, 'POST', '/api/services/shop/releases', {
      version: '1.0.0',
      to: 'production',
    });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(gate(asked.body, 'approvals')?.outcome, 'waiting');
    assert.equal((await server.api('GET', '/api/services/shop--production')).status, 404);
  });

  await t.test('an approver may change governance fields', async () => {
    const r = await apply(alice, spec('1.0.0', 2));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await apply(alice, spec('1.0.0', 1))).status, 200);
  });

  await t.test(
    'promoting past missing evidence in production is an override: an approver, with a reason, on the record',
    async () => {
      // 1.0.0 into production (its first deploy), then 1.1.0 through staging and into production's canary.
      const toProduction = async (version: string) => {
        await callAs(server, dora, 'POST', '/api/services/shop/releases', { version, to: 'production' });
        const approved = await callAs<PlanAnswer & ErrorAnswer>(server, alice, 'POST', '/api/services/shop/approve', {
          environment: 'production',
        });
        assert.equal(approved.body.outcome, 'started', JSON.stringify(approved.body));
      };
      await toProduction('1.0.0');
      await server.waitForPhase('Healthy', 30_000, 'shop--production');
      assert.equal((await apply(dora, spec('1.1.0', 1))).status, 200);
      await server.waitFor((s) => s.phase === 'Paused', 'staging canary paused', 30_000, 'shop--staging');
      assert.equal(
        (await server.api('POST', '/api/services/shop--staging/promote', { full: true })).status,
        200,
        'staging asks for no approvals',
      );
      await server.waitFor(
        (s) => s.phase === 'Healthy' && s.stableVersion === '1.1.0',
        'staging on 1.1.0',
        30_000,
        'shop--staging',
      );
      await toProduction('1.1.0');
      // No traffic: no rule can show the canary good at 50%.
      await server.waitFor(
        (s) => s.phase === 'Paused' && s.canaryVersion === '1.1.0',
        'production canary at its pause',
        30_000,
        'shop--production',
      );
      const promote = (token: string, body: object) =>
        callAs<ErrorAnswer>(server, token, 'POST', '/api/services/shop--production/promote', body);
      const byDeployer = await promote(dora, { full: true, reason: 'looks fine' });
      assert.equal(byDeployer.status, 403, JSON.stringify(byDeployer.body));
      assert.match(
        byDeployer.body.error.message,
        /dora \(deployer\) cannot override the evidence: promoting shop--production while error_rate has not shown the canary good/,
      );
      const noReason = await promote(alice, { full: true });
      assert.equal(noReason.status, 403);
      assert.match(noReason.body.error.message, /give the reason/);
      assert.equal((await promote(alice, { full: true, reason: 'hotfix, verified by hand' })).status, 200);
      await server.waitFor((s) => s.stableVersion === '1.1.0', 'production on 1.1.0', 30_000, 'shop--production');
      const log = await server.api<{
        events: { type: string; actor: string; reason?: string; withoutEvidence?: string[] }[];
      }>('GET', '/api/services/shop--production/events?after=0');
      const promoted = log.body.events.find((e) => e.type === 'release.promoted');
      assert.ok(promoted, 'the promote is an event');
      assert.deepEqual(promoted.withoutEvidence, ['error_rate']);
      assert.equal(promoted.reason, 'hotfix, verified by hand');
      assert.equal(promoted.actor, 'alice');
    },
  );
});
