/**
 * Rollback rehearsal as a gate, end to end (docs/drills.md): production asks for a rehearsal; a
 * version is refused there (409 naming the gate) until its rollback was rehearsed in staging
 * (the fault injected into its canary, the contract reverting it in time), and let through after.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callAs, envSpec, gate, type ErrorAnswer, type PlanAnswer } from './support/environments.ts';
import { startLoad } from './support/load.ts';
import { freePort, SluiceServer } from './support/sluice.ts';

interface RehearsalAnswer {
  ok: boolean;
  ranIn: string;
  timeToDetectMs: number | null;
  timeToRevertMs: number | null;
  retried: boolean;
  detail: string;
}

test(
  'the rehearsal gate blocks production until a rehearsal ran, and passes after it did',
  { timeout: 180_000 },
  async (t) => {
    const server = await SluiceServer.start();
    t.after(() => server.close());
    const [stagingPort, productionPort] = [await freePort(), await freePort()];
    const dora = await server.createToken('deployer', 'dora');
    const spec = (version: string) =>
      envSpec({
        version,
        stagingPort,
        productionPort,
        contractWindow: '3s',
        production: ['rehearsal: { required: true, fault: { errors: 100% }, maxTimeToRevert: 30s }'],
      });
    const release = (version: string) =>
      callAs<PlanAnswer & ErrorAnswer>(server, dora, 'POST', '/api/services/shop/releases', {
        version,
        to: 'production',
      });

    await server.apply(spec('1.0.0'));
    await server.waitForPhase('Healthy', 30_000, 'shop--staging');
    const first = await release('1.0.0');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.match(
      gate(first.body, 'rehearsal')?.detail ?? '',
      /first release to production: nothing to roll back to yet/,
    );
    await server.waitForPhase('Healthy', 60_000, 'shop--production');

    await server.apply(spec('2.0.0'));
    await server.waitFor((s) => s.appliedWeights['2.0.0'] === 50, 'the staging canary at 50%', 30_000, 'shop--staging');
    const refused = await release('2.0.0');
    assert.equal(refused.status, 409);
    assert.match(
      refused.body.error.message,
      /rehearsal failed: 2\.0\.0's rollback was never rehearsed for production: sluice gameday rehearse shop --to production --version 2\.0\.0/,
    );
    assert.equal(gate(refused.body.error.detail, 'rehearsal')?.outcome, 'failed');

    const load = startLoad({ url: `http://127.0.0.1:${stagingPort}/`, rps: 100, durationMs: 60_000 });
    t.after(() => load.stop());
    const r = await callAs<RehearsalAnswer>(server, dora, 'POST', '/api/rehearsals', {
      service: 'shop',
      to: 'production',
      version: '2.0.0',
    });
    await load.stop();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.ok, true, r.body.detail);
    assert.equal(r.body.ranIn, 'shop--staging');
    assert.ok(
      r.body.timeToDetectMs !== null &&
        r.body.timeToRevertMs !== null &&
        r.body.timeToDetectMs <= r.body.timeToRevertMs &&
        r.body.timeToRevertMs <= 30_000,
      JSON.stringify(r.body),
    );
    assert.equal(r.body.retried, true, 'released again in staging after the rehearsal');

    // The release for real in staging, promoted by hand past its pause, then production lets 2.0.0 in.
    await server.waitFor(
      (s) =>
        s.appliedWeights['2.0.0'] === 50 &&
        s.release?.kind === 'retry' &&
        ['Progressing', 'Paused'].includes(s.release.status),
      'the retried staging canary',
      30_000,
      'shop--staging',
    );
    assert.equal((await server.api('POST', '/api/services/shop--staging/promote', { full: true })).status, 200);
    await server.waitFor(
      (s) => s.stableVersion === '2.0.0' && s.phase === 'Healthy',
      'staging on 2.0.0',
      30_000,
      'shop--staging',
    );
    const passed = await release('2.0.0');
    assert.equal(passed.status, 200, JSON.stringify(passed.body));
    assert.equal(gate(passed.body, 'rehearsal')?.outcome, 'passed');
    assert.match(
      gate(passed.body, 'rehearsal')?.detail ?? '',
      /rehearsed in shop--staging: the contract detected the fault in \d+ ms and reverted in \d+ ms \(at most 30s\)/,
    );

    const share = await server.api<{ releases: number; rehearsed: number; share: number }>('GET', '/api/rehearsals');
    assert.deepEqual([share.body.releases, share.body.rehearsed, share.body.share], [1, 1, 100]);

    // The four keys count it: of production's two deployments, 2.0.0 was rehearsed and 1.0.0 was not.
    await server.waitFor((s) => s.appliedWeights['2.0.0'] === 50, 'the production canary', 30_000, 'shop--production');
    assert.equal((await server.api('POST', '/api/services/shop--production/promote', { full: true })).status, 200);
    await server.waitFor(
      (s) => s.stableVersion === '2.0.0' && s.phase === 'Healthy',
      'production on 2.0.0',
      30_000,
      'shop--production',
    );
    const q = new URLSearchParams({
      service: 'shop',
      env: 'production',
      since: new Date(Date.now() - 3_600_000).toISOString(),
      until: new Date(Date.now() + 60_000).toISOString(),
    });
    const k = (await server.api<Record<string, any>>('GET', `/api/analytics/dora?${q.toString()}`)).body;
    assert.deepEqual(k.rehearsed, { share: 0.5, available: true, counts: { known: 2, yes: 1 } }, JSON.stringify(k));
    assert.deepEqual(k.behindFlags.counts, { known: 2, yes: 0 });
  },
);
