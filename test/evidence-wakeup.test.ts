/**
 * End to end: the controller judges a canary when its bad answers arrive (the built-in proxy's
 * watch), not at its next evaluation interval. Real server, real processes, real traffic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { revertAfterFirstFailure, startLoad } from './support/load.ts';
import { deployedServer, serviceSpec } from './support/sluice.ts';

const INTERVAL_MS = 5_000;
const CONTRACT = `    interval: 5s
    window: 10s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }`;

test(
  'a canary failing every request is rolled back well within the 5 s interval after its first failure',
  { timeout: 90_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { contract: CONTRACT });
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 200, durationMs: 60_000 });
    t.after(() => load.stop());
    await new Promise((r) => setTimeout(r, 1000)); // the baseline's traffic first
    await server.apply(
      serviceSpec({
        version: '2.0.0',
        listenPort,
        env: { FAIL_RATE: '1' },
        steps: ['setWeight: 20', 'pause: {}'],
        contract: CONTRACT,
      }),
    );
    const rolledBack = await server.waitFor(
      (s) => s.release?.toVersion === '2.0.0' && s.lastRollback?.trafficRevertedAt != null,
      'rolled back',
      30_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const report = await load.stop();

    const rb = rolledBack.lastRollback!;
    assert.equal(rb.trigger, 'error_rate');
    const { revertMs, failedBefore, failures } = revertAfterFirstFailure(
      report.samples,
      '2.0.0',
      rb.trafficRevertedAt!,
    );
    assert.ok(failures.length > 0, 'the canary failed requests');
    // At 40 canary requests/s the judge has its evidence within a few requests (~0.1 s); without a
    // wake-up it would wait for the next evaluation, up to 5 s later.
    assert.ok(
      revertMs >= 0 && revertMs < INTERVAL_MS / 4,
      `all traffic back on stable ${Math.round(revertMs)} ms after the first failing request (interval ${INTERVAL_MS} ms)`,
    );
    assert.ok(failedBefore < 60, `${failedBefore} canary requests failed before the revert`);
    t.diagnostic(`revertMs ${Math.round(revertMs)}, ${failedBefore} failed canary requests`);
  },
);
