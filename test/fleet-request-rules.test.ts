/**
 * Request rules behind HAProxy and NGINX: each router sends one line per request to Sluice's
 * access-log receiver (`router.accessLog`, `metrics: { provider: access-log }`), and the same
 * contract as behind the built-in proxy — error_rate and latency against the baseline, judged by
 * the sequential judge — rolls back a canary failing 10% of its requests, with the same rollback
 * log, and lets a healthy release reach 100% with no rollback.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startLoad } from './support/load.ts';
import { withoutServer } from './support/servers.ts';
import { freePort, serviceSpec, SluiceServer } from './support/sluice.ts';

const contract = `    interval: 250ms
    window: 5s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }
      - { metric: latency_p95, failIf: { above: baseline, by: 300ms } }`;

for (const [router, binary, pkg] of [
  ['haproxy', 'haproxy', 'haproxy'],
  ['nginx', 'nginx', 'nginx-light'],
] as const) {
  describe(`request rules behind ${router}`, { skip: withoutServer(binary, pkg) }, () => {
    test(
      `${router}: the sequential judge rolls back a canary failing 10% of requests; a healthy release reaches 100%`,
      { timeout: 120_000 },
      async (t) => {
        const server = await SluiceServer.start();
        t.after(() => server.close());
        const [listenPort, logPort] = [await freePort(), await freePort()];
        const spec = (version: string, steps: string[], env: Record<string, string> = {}) =>
          serviceSpec({ version, listenPort, instances: 1, contract, steps, env })
            .replace('    driver: builtin\n', `    driver: ${router}\n    accessLog: 127.0.0.1:${logPort}\n`)
            .replace(
              '  strategy:\n',
              `  metrics: { provider: access-log, listen: 127.0.0.1:${logPort} }\n  strategy:\n`,
            );
        await server.apply(spec('1.0.0', ['setWeight: 50', 'pause: {}']));
        await server.waitForPhase('Healthy', 30_000);
        const load = startLoad({
          url: `http://127.0.0.1:${listenPort}/`,
          rps: 200,
          durationMs: 100_000,
          headers: (i) => ({ 'x-user-id': `u${i % 50}` }),
        });
        t.after(() => load.stop());

        await server.apply(spec('2.0.0', ['setWeight: 50', 'pause: {}'], { FAIL_RATE: '0.1' }));
        const rolledBack = await server.waitFor(
          (s) => s.phase === 'RolledBack' && s.lastRollback?.trafficRevertedAt != null,
          'rolled back',
          30_000,
        );
        const rb = rolledBack.lastRollback!;
        t.diagnostic(`${router}: ${rb.reason}; reverted in ${rb.revertMs} ms`);
        assert.equal(rb.trigger, 'error_rate');
        assert.equal(rb.kind, 'contract');
        // The same rollback log as behind the built-in proxy (test/release.test.ts).
        assert.match(
          rb.reason,
          /error_rate canary \d+\.\d+% \(\d+\/\d+ failed\), baseline 0\.00% \(0\/\d+\): the canary is at least \d+\.\d+% at 99\.5% confidence; the rule allows at most \d+\.\d+% \(baseline \+ 2\.00%\)/,
        );
        const failing = rb.verdicts.find((v) => v.rule === 'error_rate')!;
        assert.equal(failing.outcome, 'Fail');
        assert.equal(failing.judge, 'sequential');
        assert.ok(failing.evidence!.eValue >= failing.evidence!.eThreshold, 'the e-value crossed its threshold');
        assert.equal(rolledBack.weights['1.0.0'], 100);
        const revertedAt = Date.parse(rb.trafficRevertedAt!);
        await new Promise((r) => setTimeout(r, 1000));
        const after = load.samples.filter((s) => s.start > revertedAt + 50 && s.status !== 0);
        assert.ok(
          after.length > 50 && after.every((s) => s.version === '1.0.0' && s.status === 200),
          `after the revert, everything on 1.0.0 through ${router}`,
        );

        await server.apply(spec('3.0.0', ['setWeight: 50', 'pause: { duration: 1s }']));
        const healthy = await server.waitFor(
          (s) => s.phase === 'Healthy' && s.stableVersion === '3.0.0',
          'the healthy release at 100%',
          45_000,
        );
        assert.equal(healthy.weights['3.0.0'], 100);
        // The step advanced on the sequential judge's Pass for every rule, from the routers' own lines.
        const { body } = await server.api<{
          events: Array<{ type: string; verdicts?: Array<{ rule: string; outcome: string; judge?: string }> }>;
        }>('GET', '/api/services/checkout/events?limit=10000');
        const lastStart = body.events.findLastIndex((e) => e.type === 'release.started');
        const verdicts = body.events
          .slice(lastStart)
          .flatMap((e) => (e.type === 'analysis.evaluated' ? (e.verdicts ?? []) : []));
        for (const rule of ['error_rate', 'latency_p95']) {
          assert.ok(
            verdicts.some((v) => v.rule === rule && v.outcome === 'Pass' && v.judge === 'sequential'),
            `${rule} passed on evidence`,
          );
        }
        assert.ok(!verdicts.some((v) => v.outcome === 'Fail'), 'no rule failed the healthy release');
        const history = await server.api<{ releases: { version?: string; status: string }[] }>(
          'GET',
          '/api/services/checkout/history',
        );
        assert.deepEqual(
          history.body.releases.map((r) => r.status),
          ['Succeeded', 'RolledBack', 'Succeeded'],
          'no rollback of the healthy release',
        );
        const report = await load.stop();
        t.diagnostic(`${router}: ${report.sent} requests, ${report.failed} failed`);
        assert.ok((report.byVersion['3.0.0']?.ok ?? 0) > 100);
      },
    );
  });
}
