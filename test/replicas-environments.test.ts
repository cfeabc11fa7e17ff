/**
 * Environments on replicas with data dirs of their own: a release into production asked for on
 * replica b (which waits for an approval) is approved on replica a, and ships. Each replica holds
 * the same plans, taken in from the shared log whichever replica recorded them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callAs, envSpec, gate, type ErrorAnswer, type PlanAnswer } from './support/environments.ts';
import { withoutPostgres } from './support/postgres.ts';
import { startReplicas } from './support/replicas.ts';
import { freePort } from './support/sluice.ts';

const skip = withoutPostgres();

test(
  'a release asked for on one replica waits for an approval given on another, then ships',
  { skip, timeout: 120_000 },
  async (t) => {
    const replicas = await startReplicas(t, ['a', 'b']);
    const [a, b] = [replicas.servers[0]!, replicas.servers[1]!];
    const dora = await a.createToken('deployer', 'dora');
    const alice = await a.createToken('approver', 'alice');
    const [stagingPort, productionPort] = [await freePort(), await freePort()];
    const applied = await callAs<ErrorAnswer>(a, dora, 'POST', '/api/apply', {
      spec: envSpec({ version: '1.0.0', stagingPort, productionPort, approvals: 1 }),
      file: 'shop.yaml',
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    await a.waitForPhase('Healthy', 30_000, 'shop--staging');

    // b learns of shop's environments from the log; the release is asked for there.
    let asked = { status: 0, body: {} as PlanAnswer & ErrorAnswer };
    const until = Date.now() + 5000;
    while (asked.status !== 202 && Date.now() < until) {
      asked = await callAs<PlanAnswer & ErrorAnswer>(b, dora, 'POST', '/api/services/shop/releases', {
        version: '1.0.0',
        to: 'production',
      });
      if (asked.status !== 202) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(asked.status, 202, `b took the request: ${JSON.stringify(asked.body)}`);
    assert.equal(gate(asked.body, 'approvals')?.outcome, 'waiting');

    // a approves the plan b recorded.
    let approved = { status: 0, body: {} as PlanAnswer & ErrorAnswer };
    const by = Date.now() + 5000;
    while (approved.status !== 200 && Date.now() < by) {
      approved = await callAs<PlanAnswer & ErrorAnswer>(a, alice, 'POST', '/api/services/shop/approve', {
        environment: 'production',
      });
      if (approved.status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(approved.status, 200, `a saw b's plan: ${JSON.stringify(approved.body)}`);
    assert.equal(approved.body.outcome, 'started', JSON.stringify(approved.body));
    await a.waitForPhase('Healthy', 30_000, 'shop--production');
    const onB = await b.api<{ phase: string; stableVersion: string }>('GET', '/api/services/shop--production');
    assert.equal(onB.body.stableVersion, '1.0.0', 'b serves the status of what a shipped');
  },
);
