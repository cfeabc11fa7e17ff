/**
 * Environments end to end against a real server: apply releases to the first environment only,
 * promotion order and minSoak, status per environment, diff, a release window that holds a
 * promotion until it opens, and an override that opens a post-mortem.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { callAs, envSpec, gate, type ErrorAnswer, type PlanAnswer } from './support/environments.ts';
import { CLI, freePort, ROOT, SluiceServer } from './support/sluice.ts';

interface EnvView {
  environment: string;
  service: string;
  phase: string | null;
  stableVersion: string | null;
  plan: { status: string; version: string } | null;
}

test('environments: promotion order, soak, status, diff, windows, overrides', { timeout: 150_000 }, async (t) => {
  const server = await SluiceServer.start();
  t.after(() => server.close());
  const [stagingPort, productionPort] = [await freePort(), await freePort()];
  const dora = await server.createToken('deployer', 'dora');
  const alice = await server.createToken('approver', 'alice');
  const spec = (version: string, extra: Partial<Parameters<typeof envSpec>[0]> = {}) =>
    envSpec({ version, stagingPort, productionPort, minSoak: '4s', approvals: 1, ...extra });
  const release = (version: string, token = dora) =>
    callAs<PlanAnswer & ErrorAnswer>(server, token, 'POST', '/api/services/shop/releases', {
      version,
      to: 'production',
    });
  const envs = async () =>
    (await server.api<{ environments: EnvView[] }>('GET', '/api/services/shop/environments')).body.environments;

  await t.test('apply deploys the first environment only', async () => {
    const results = await server.apply(spec('1.0.0'));
    assert.deepEqual(
      results.map((r) => [r.service, r.action]),
      [['shop--staging', 'created']],
    );
    await server.waitForPhase('Healthy', 30_000, 'shop--staging');
    const [staging, production] = await envs();
    assert.equal(staging?.phase, 'Done');
    assert.equal(staging?.stableVersion, '1.0.0');
    assert.equal(production?.phase, null);
    assert.equal((await fetch(`http://127.0.0.1:${stagingPort}/`)).headers.get('x-version'), '1.0.0');
  });

  await t.test('a version never released to staging is refused, naming the gate', async () => {
    const r = await release('9.9.9');
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, /previous-environment failed: 9\.9\.9 was never released to staging/);
    assert.equal(gate(r.body.error.detail, 'previous-environment')?.outcome, 'failed');
  });

  let soakedAt = 0;
  await t.test('before minSoak the promotion is refused with when it will be ready', async () => {
    const r = await release('1.0.0');
    assert.equal(r.status, 409, JSON.stringify(r.body));
    const soak = gate(r.body.error.detail, 'soak');
    assert.equal(soak?.outcome, 'failed');
    assert.match(soak!.detail, /of 4s in staging; ready at /);
    assert.equal(gate(r.body.error.detail, 'approvals')?.outcome, 'waiting');
    assert.equal(gate(r.body.error.detail, 'contract')?.outcome, 'passed');
    soakedAt = Date.parse(String(soak!.evidence.since)) + 4000;
    assert.equal((await envs())[1]?.phase, 'Plan');
  });

  await t.test('after the soak, an approval starts the release and production serves the version', async () => {
    while (Date.now() < soakedAt + 200) await new Promise((r) => setTimeout(r, 100));
    const r = await callAs<PlanAnswer>(server, alice, 'POST', '/api/services/shop/approve', {
      environment: 'production',
      comment: 'staging looks fine',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.outcome, 'started');
    assert.equal(r.body.plan.release?.service, 'shop--production');
    const s = await server.waitForPhase('Healthy', 30_000, 'shop--production');
    assert.equal(s.stableVersion, '1.0.0');
    assert.equal(s.release?.startedBy, 'dora', 'the requester is the release author');
    assert.equal((await fetch(`http://127.0.0.1:${productionPort}/`)).headers.get('x-version'), '1.0.0');
    const [staging, production] = await envs();
    assert.deepEqual([staging?.phase, production?.phase, production?.stableVersion], ['Done', 'Done', '1.0.0']);
  });

  await t.test('a new version goes to staging only; production keeps running the old one', async () => {
    const results = await server.apply(spec('2.0.0'));
    assert.equal(results.find((r) => r.service === 'shop--staging')?.action, 'released');
    await server.waitFor((s) => s.phase === 'Paused', 'staging canary paused', 30_000, 'shop--staging');
    assert.equal((await server.status('shop--production')).stableVersion, '1.0.0');
    const r = await release('2.0.0');
    assert.equal(r.status, 409);
    assert.match(gate(r.body.error.detail, 'previous-environment')!.detail, /is Paused, not Succeeded/);
    assert.equal((await server.api('POST', '/api/services/shop--staging/promote', { full: true })).status, 200);
    await server.waitFor(
      (s) => s.phase === 'Healthy' && s.stableVersion === '2.0.0',
      'staging on 2.0.0',
      30_000,
      'shop--staging',
    );
  });

  await t.test('diff shows how production differs from staging, field by field', async () => {
    const r = await server.api<{ differences: { path: string; a: unknown; b: unknown }[] }>(
      'GET',
      '/api/services/shop/diff?a=staging&b=production',
    );
    assert.equal(r.status, 200);
    const byPath = Object.fromEntries(r.body.differences.map((d) => [d.path, [d.a, d.b]]));
    assert.deepEqual(byPath['spec.router.listen'], [`127.0.0.1:${stagingPort}`, `127.0.0.1:${productionPort}`]);
    assert.deepEqual(byPath['spec.version'], ['2.0.0', '1.0.0']);
    assert.equal(byPath['metadata.name'], undefined);
  });

  await t.test('the CLI: release (where each version is, a refusal naming the gate) and diff', async () => {
    const sluice = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, ...args],
          { cwd: ROOT, env: { ...process.env, SLUICE_SERVER: server.url, SLUICE_TOKEN: dora }, timeout: 30_000 },
          (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
        );
      });
    const table = await sluice('release', 'shop');
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^staging\s+Done\s+2\.0\.0/m);
    assert.match(table.stdout, /^production\s+Plan\s+1\.0\.0\s+-\s+shop--production#1 Succeeded\s+2\.0\.0 Refused/m);
    const refused = await sluice('release', 'shop', '--version', '7.0.0', '--to', 'production');
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /7\.0\.0 → production: refused/);
    assert.match(refused.stdout, /previous-environment\s+FAILED\s+7\.0\.0 was never released to staging/);
    const diff = await sluice('diff', 'shop', 'staging', 'production');
    assert.equal(diff.code, 1, 'they differ');
    assert.match(
      diff.stdout,
      new RegExp(`spec\\.router\\.listen\\s+127\\.0\\.0\\.1:${stagingPort}  →  127\\.0\\.0\\.1:${productionPort}`),
    );
    // Asking for 2.0.0 again puts its plan back in front (7.0.0 superseded it).
    assert.ok([202, 409].includes((await release('2.0.0')).status));
  });

  await t.test('outside a release window the promotion waits, says until when, and starts when it opens', async () => {
    const freezeEnd = new Date(Date.now() + 60 * 60_000).toISOString();
    const policy = (freezes: string) =>
      `apiVersion: sluice.dev/v1alpha1\nkind: ReleasePolicy\nmetadata: { name: test }\nspec:\n  freezes:\n${freezes}`;
    const applied = await server.apply(
      policy(
        `    - { name: launch, from: "2020-01-01T00:00:00Z", until: "${freezeEnd}", reason: product launch, services: [shop--production] }\n`,
      ),
    );
    assert.match(JSON.stringify(applied), /release policy test: 0 window\(s\), 1 freeze\(s\)/);
    t.after(() => rmSync(join(server.dataDir, 'release-policy.yaml'), { force: true }));
    await new Promise((r) => setTimeout(r, 4200)); // the soak of 2.0.0 in staging
    const r = await release('2.0.0');
    assert.equal(r.status, 202, 'only people and the window are missing now');
    assert.equal(gate(r.body, 'soak')?.outcome, 'passed');
    const a = await callAs<PlanAnswer>(server, alice, 'POST', '/api/services/shop/approve', {
      environment: 'production',
    });
    assert.equal(a.status, 200);
    assert.equal(a.body.outcome, 'waiting');
    const w = gate(a.body, 'window');
    assert.equal(w?.outcome, 'waiting');
    assert.match(w!.detail, new RegExp(`freeze "launch" \\(product launch\\) until ${freezeEnd.slice(0, 19)}`));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await server.status('shop--production')).stableVersion, '1.0.0', 'held while frozen');
    await server.apply(policy('    []\n'));
    const s = await server.waitFor(
      (x) => x.canaryVersion === '2.0.0' || x.stableVersion === '2.0.0',
      'production release started once the window opened',
      15_000,
      'shop--production',
    );
    assert.equal(s.release?.toVersion, '2.0.0');
  });

  await t.test(
    'an override by an approver who is not the author lets a soaking version through and opens a post-mortem',
    async () => {
      await server.apply(spec('3.0.0', { minSoak: '1h' }));
      await server.waitFor((s) => s.phase === 'Paused', 'staging canary paused', 30_000, 'shop--staging');
      await server.api('POST', '/api/services/shop--staging/promote', { full: true });
      await server.waitFor(
        (s) => s.stableVersion === '3.0.0' && s.phase === 'Healthy',
        'staging on 3.0.0',
        30_000,
        'shop--staging',
      );
      const r = await release('3.0.0');
      assert.equal(r.status, 409);
      assert.equal(gate(r.body.error.detail, 'soak')?.outcome, 'failed');
      const self = await callAs<ErrorAnswer>(server, dora, 'POST', '/api/services/shop/override', {
        gate: 'soak',
        reason: 'hotfix for the checkout outage',
      });
      assert.equal(self.status, 403, 'a deployer cannot override');
      const short = await callAs<ErrorAnswer>(server, alice, 'POST', '/api/services/shop/override', {
        gate: 'soak',
        reason: 'x',
      });
      assert.equal(short.status, 400);
      const contract = await callAs<ErrorAnswer>(server, alice, 'POST', '/api/services/shop/override', {
        gate: 'contract',
        reason: 'we know what we do',
      });
      assert.equal(contract.status, 403);
      const o = await callAs<PlanAnswer>(server, alice, 'POST', '/api/services/shop/override', {
        gate: 'soak',
        reason: 'hotfix for the checkout outage',
      });
      assert.equal(o.status, 200, JSON.stringify(o.body));
      assert.equal(gate(o.body, 'soak')?.outcome, 'overridden');
      assert.equal(o.body.outcome, 'waiting', 'approvals are still needed');
      const a = await callAs<PlanAnswer>(server, alice, 'POST', '/api/services/shop/approve', {
        environment: 'production',
      });
      assert.equal(a.body.outcome, 'started');
      const pm = await server.api<{
        postmortems: {
          id: string;
          gate: string;
          overriddenBy: string;
          reason: string;
          release: { service: string; id: string } | null;
        }[];
      }>('GET', '/api/postmortems?service=shop');
      assert.equal(pm.body.postmortems.length, 1);
      assert.deepEqual(pm.body.postmortems[0], {
        ...pm.body.postmortems[0],
        gate: 'soak',
        overriddenBy: 'alice',
        reason: 'hotfix for the checkout outage',
        release: a.body.plan.release,
      });
      const exported = await fetch(`${server.url}/api/audit/export`, {
        headers: { authorization: `Bearer ${server.token}` },
      });
      const events = (await exported.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { service: string; type: string; actor: string });
      const types = events.filter((e) => e.service === 'shop').map((e) => e.type);
      assert.ok(
        events.some((e) => e.type === 'gate.overridden' && e.actor === 'alice'),
        'the override is in the audit trail with its actor',
      );
      for (const ty of [
        'environments.applied',
        'plan.requested',
        'gate.evaluated',
        'approval.given',
        'gate.overridden',
        'postmortem.opened',
        'plan.decided',
      ])
        assert.ok(types.includes(ty), ty);
    },
  );
});
