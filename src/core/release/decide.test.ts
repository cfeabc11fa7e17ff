import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analysisDue } from './decide.ts';
import { contract, healthyEvidence, STEPS } from '../testing/fixtures.ts';
import { phaseOf } from './state.ts';
import { deployed, driver } from '../testing/test-driver.ts';

test('a release succeeds only once the router serves 100%; Healthy is never reported early', () => {
  const d = driver(false);
  d.send(
    { type: 'startRelease', kind: 'deploy', to: { key: '1', version: '1.0.0' }, steps: STEPS, contract: contract() },
    0,
  );
  d.send({ type: 'targetReady', key: '1', instances: [] }, 10);
  assert.equal(phaseOf(d.state), 'Progressing');
  d.send({ type: 'weightsApplied', weights: {} }, 15); // a stale table: nothing changes
  assert.equal(phaseOf(d.state), 'Progressing');
  d.send({ type: 'weightsApplied', weights: { '1': 100 } }, 20);
  assert.equal(phaseOf(d.state), 'Healthy');
  assert.equal(d.state.release!.endedAt, 20);
});

test('a first deploy goes straight to 100% once ready and the service is Healthy', () => {
  const d = deployed();
  assert.equal(phaseOf(d.state), 'Healthy');
  assert.deepEqual(d.state.weights, { '1': 100 });
  assert.deepEqual(d.state.stable, { key: '1', version: '1.0.0' });
});

test('a release starts its target, then sets the first weight in the same decision as readiness', () => {
  const d = deployed();
  const start = d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: STEPS, contract: contract() },
    100,
  );
  assert.deepEqual(start.actions, [{ kind: 'startTarget', ref: { key: '2', version: '2.0.0' } }]);
  assert.equal(phaseOf(d.state), 'Progressing');
  const ready = d.send({ type: 'targetReady', key: '2', instances: [] }, 200);
  assert.deepEqual(ready.actions, [{ kind: 'setWeights', weights: { '2': 1, '1': 99 }, purpose: 'step' }]);
  assert.equal(d.state.release?.stepIndex, 1);
  // The timed pause holds until its time is up, and then until the contract shows the canary is good.
  d.send({ type: 'observation', observation: healthyEvidence }, 1_000);
  assert.deepEqual(d.send({ type: 'tick' }, 5_000).actions, []);
  const next = d.send({ type: 'tick' }, 10_200);
  assert.deepEqual(next.actions, [{ kind: 'setWeights', weights: { '2': 10, '1': 90 }, purpose: 'step' }]);
  assert.equal(d.state.release?.stepIndex, 3);
  // At 10% the evidence gathered at 1% no longer counts: the next pause holds until new evidence.
  assert.deepEqual(d.send({ type: 'tick' }, 21_000).actions, []);
  assert.equal(d.state.release?.stepIndex, 3);
  const later = d.send({ type: 'observation', observation: healthyEvidence }, 21_500);
  assert.deepEqual(later.actions, [{ kind: 'setWeights', weights: { '2': 50, '1': 50 }, purpose: 'step' }]);
});

test('a failing verdict rolls back: weights to stable first, then the canary is stopped', () => {
  const d = deployed(false);
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: STEPS, contract: contract() },
    100,
  );
  d.send({ type: 'targetReady', key: '2', instances: [] }, 200);
  d.send({ type: 'weightsApplied', weights: { '2': 1, '1': 99 } }, 210);
  assert.equal(analysisDue(d.state, 300), true);
  const bad = { kind: 'stats' as const, stats: { requests: 60, errors: 60, latency: {}, windowMs: 10_000 } };
  const good = { kind: 'stats' as const, stats: { requests: 6000, errors: 0, latency: {}, windowMs: 10_000 } };
  const r = d.send(
    { type: 'observation', observation: { canary: bad, baseline: good, canaryCrashes: 0, baselineCrashes: 0 } },
    1_300,
    'sluice-controller',
  );
  assert.deepEqual(
    r.actions.map((a) => a.kind),
    ['setWeights', 'stopTarget'],
  );
  assert.deepEqual(r.actions[0], { kind: 'setWeights', weights: { '1': 100, '2': 0 }, purpose: 'rollback' });
  assert.equal(phaseOf(d.state), 'RolledBack');
  const log = d.state.release!.rollback!;
  assert.equal(log.trigger, 'error_rate');
  assert.equal(log.detectedAt, 1_300);
  d.send({ type: 'weightsApplied', weights: { '1': 100, '2': 0 } }, 1_310, 'sluice-controller');
  assert.equal(d.state.release!.rollback!.trafficRevertedAt, 1_310);
  assert.deepEqual(d.state.appliedWeights, { '1': 100, '2': 0 }, 'the router-confirmed weights are recorded');
  d.send({ type: 'targetStopped', key: '2', error: null }, 3_000, 'sluice-controller');
  const done = d.state.release!.rollback!;
  assert.equal(done.trafficRevertedAt, 1_310);
  assert.equal(done.revertMs, 10);
  assert.equal(done.canaryStoppedAt, 3_000);
  assert.deepEqual(d.state.weights, { '1': 100 });
  assert.deepEqual(d.state.stable, { key: '1', version: '1.0.0' });
});

test('commands: pause, resume, promote at an open pause, refusals in the wrong phase', () => {
  const d = deployed();
  assert.equal(d.send({ type: 'command', command: { kind: 'promote', full: false } }, 50).refused?.code, 'conflict');
  const steps = [
    { kind: 'setWeight' as const, weight: 20 },
    { kind: 'pause' as const, durationMs: null },
    { kind: 'setWeight' as const, weight: 60 },
    { kind: 'pause' as const, durationMs: null },
  ];
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps, contract: contract() },
    100,
  );
  assert.equal(
    d.send({ type: 'command', command: { kind: 'promote', full: false } }, 150).refused?.message,
    'the new revision is not ready yet',
  );
  d.send({ type: 'targetReady', key: '2', instances: [] }, 200);
  assert.equal(phaseOf(d.state), 'Paused');
  assert.match(d.send({ type: 'command', command: { kind: 'resume' } }, 300).refused!.message, /waits for promote/);
  const p = d.send({ type: 'command', command: { kind: 'promote', full: false } }, 400);
  assert.deepEqual(p.actions, [{ kind: 'setWeights', weights: { '2': 60, '1': 40 }, purpose: 'step' }]);
  assert.equal(phaseOf(d.state), 'Paused');
  const full = d.send({ type: 'command', command: { kind: 'promote', full: true } }, 500);
  // The old revision is retired only after the router confirmed 100% (the driver here confirms at once).
  assert.deepEqual(
    full.actions.map((a) => a.kind),
    ['setWeights'],
  );
  assert.equal(d.state.runtimes['1']?.status, 'stopping');
  assert.equal(phaseOf(d.state), 'Healthy');
  assert.deepEqual(d.state.stable, { key: '2', version: '2.0.0' });
  assert.equal(d.send({ type: 'command', command: { kind: 'pause' } }, 600).refused?.code, 'conflict');
});

test('abort records the actor; retry starts the same revision again', () => {
  const d = deployed();
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: STEPS, contract: contract() },
    100,
  );
  d.send({ type: 'targetReady', key: '2', instances: [] }, 200);
  d.send({ type: 'command', command: { kind: 'abort' } }, 300, 'bob');
  assert.equal(phaseOf(d.state), 'Aborted');
  assert.equal(d.state.release!.rollback!.actor, 'bob');
  assert.equal(d.state.release!.rollback!.kind, 'abort');
  const retry = d.send({ type: 'command', command: { kind: 'retry' } }, 400);
  assert.deepEqual(retry.actions, [{ kind: 'startTarget', ref: { key: '2', version: '2.0.0' } }]);
  assert.equal(d.state.release!.number, 3);
  assert.equal(d.state.release!.kind, 'retry');
});

test('a new release supersedes one in progress: the old canary is rolled back first', () => {
  const d = deployed();
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: STEPS, contract: contract() },
    100,
  );
  d.send({ type: 'targetReady', key: '2', instances: [] }, 200);
  const r = d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '3', version: '3.0.0' }, steps: STEPS, contract: contract() },
    300,
  );
  assert.deepEqual(
    r.actions.map((a) => a.kind),
    ['setWeights', 'stopTarget', 'startTarget'],
  );
  assert.equal(d.state.release!.to.key, '3');
});

test('readiness failure of a canary rolls back; of a first deploy degrades the service', () => {
  const d = deployed();
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: STEPS, contract: contract() },
    100,
  );
  d.send({ type: 'targetFailed', key: '2', error: 'readiness timed out after 10s' }, 11_000);
  assert.equal(phaseOf(d.state), 'RolledBack');
  assert.equal(d.state.release!.rollback!.trigger, 'readiness');
  const fresh = driver();
  fresh.send(
    { type: 'startRelease', kind: 'deploy', to: { key: '1', version: '1.0.0' }, steps: STEPS, contract: contract() },
    0,
  );
  fresh.send({ type: 'targetFailed', key: '1', error: 'exit code 1' }, 10);
  assert.equal(phaseOf(fresh.state), 'Degraded');
});

test('a canary instance that crashes for good rolls the release back; a restarted one is only recorded', () => {
  const d = deployed();
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: STEPS, contract: contract() },
    100,
  );
  d.send({ type: 'targetReady', key: '2', instances: [] }, 200);
  d.send({ type: 'targetCrashed', key: '2', instanceId: '2-1', exitCode: 1, signal: null, restarted: true }, 300);
  assert.equal(phaseOf(d.state), 'Progressing');
  assert.equal(d.state.runtimes['2']!.crashes.length, 1);
  d.send({ type: 'targetCrashed', key: '2', instanceId: '2-1', exitCode: 1, signal: null, restarted: false }, 400);
  assert.equal(phaseOf(d.state), 'RolledBack');
  assert.equal(d.state.release!.rollback!.trigger, 'crash');
});
