/**
 * End to end: the controller judges a canary when its bad answers arrive (the built-in proxy's
 * watch), not at its next evaluation interval. Real server, real processes, real traffic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { revertAfterFirstFailure, startLoad } from './support/load.ts';
import { deployedServer, serviceSpec } from './support/sluice.ts';

// A long interval, and a canary that goes bad a few seconds into its step (after the step's first
// evaluation): without the wake-up the revert would come at the next evaluation, ~26 s after the
// first failure; with it, within a few canary requests. The gap is wide enough that a loaded CI
// machine cannot blur the two.
const INTERVAL_MS = 30_000;
const CONTRACT = `    interval: 30s
    window: 10s
    minSamples: 20
    rules:
      - { metric: error_rate, failIf: { above: baseline, by: 0.02 } }`;

test(
  'a canary failing every request is rolled back well within the 30 s interval after its first failure',
  { timeout: 120_000 },
  async (t) => {
    const { server, listenPort } = await deployedServer(t, { contract: CONTRACT });
    const load = startLoad({ url: `http://127.0.0.1:${listenPort}/`, rps: 200, durationMs: 80_000 });
    t.after(() => load.stop());
    await new Promise((r) => setTimeout(r, 1000)); // the baseline's traffic first
    await server.apply(
      serviceSpec({
        version: '2.0.0',
        listenPort,
        env: { FAIL_RATE: '1', FAIL_AFTER_MS: '4000' }, // goes bad mid-step, after the step's first evaluation
        steps: ['setWeight: 20', 'pause: {}'],
        contract: CONTRACT,
      }),
    );
    const rolledBack = await server.waitFor(
      (s) => s.release?.toVersion === '2.0.0' && s.lastRollback?.trafficRevertedAt != null,
      'rolled back',
      INTERVAL_MS + 15_000,
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
    // wake-up it would wait for the next evaluation, 30 s later.
    if (!(revertMs >= 0 && revertMs < INTERVAL_MS / 6)) {
      const first = failures[0]!.start;
      const { body } = await server.api<{ events: { type: string; at: number }[] }>(
        'GET',
        '/api/services/checkout/events?limit=10000',
      );
      const around = body.events
        .filter((e) => e.at >= first - 2000)
        .map((e) => `${Math.round(e.at - first)} ms ${e.type}`)
        .join('\n');
      assert.fail(
        `all traffic back on stable ${Math.round(revertMs)} ms after the first failing request (interval ${INTERVAL_MS} ms); events from 2 s before it:\n${around}\nserver log:\n${server.log.slice(-3000)}`,
      );
    }
    assert.ok(failedBefore < 60, `${failedBefore} canary requests failed before the revert`);
    t.diagnostic(`revertMs ${Math.round(revertMs)}, ${failedBefore} failed canary requests`);
  },
);
