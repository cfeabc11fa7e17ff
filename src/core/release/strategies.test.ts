import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blueGreenSteps } from './blue-green.ts';
import { analysisDue, decide } from './decide.ts';
import type { Action, Input } from './decision.ts';
import type { ServiceEvent } from '../events.ts';
import { contract, healthyEvidence, windowStats } from '../testing/fixtures.ts';
import type { Observation } from '../analysis/judge.ts';
import { reduce } from './reduce.ts';
import { emptyState, phaseOf, type ServiceState } from './state.ts';
import { canaryPlan, type BlueGreenPlan, type ReleasePlan, type ReleaseStep, type RollbackModes } from './strategy.ts';
import type { RollbackContract } from '../types.ts';

/** Drives the core by hand; the router confirms every table at once, stopped targets stop at once. */
function driver() {
  let state: ServiceState = emptyState('checkout');
  let seq = 0;
  const events: ServiceEvent[] = [];
  const send = (input: Input, now: number, actor = 'sluice-controller'): { actions: Action[]; refused: unknown } => {
    const d = decide(state, input, now, actor);
    for (const body of d.events) {
      const e = { ...body, service: 'checkout', at: now, actor, seq: ++seq } as ServiceEvent;
      events.push(e);
      state = reduce(state, e);
    }
    const actions = [...d.actions];
    for (const a of d.actions) {
      if (a.kind === 'setWeights' || a.kind === 'setRoutes')
        actions.push(...send({ type: 'weightsApplied', weights: state.weights }, now).actions);
      if (a.kind === 'stopTarget')
        actions.push(...send({ type: 'targetStopped', key: a.key, error: null }, now).actions);
    }
    return { actions, refused: d.refused };
  };
  return {
    get state() {
      return state;
    },
    events,
    send,
    types: () => events.map((e) => e.type),
  };
}

type Contract = RollbackContract & Partial<RollbackModes>;

/** Stable 1 at 100%, then a release of 2 with `plan`, ready at t=1000. */
function released(plan: ReleasePlan, c: Contract = contract()) {
  const d = driver();
  d.send({ type: 'startRelease', kind: 'deploy', to: { key: '1', version: '1.0.0' }, steps: [], contract: c }, 0);
  d.send({ type: 'targetReady', key: '1', instances: [{ id: '1-1', url: 'http://a' }] }, 10);
  d.send(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: plan.steps, contract: c, plan },
    100,
  );
  d.send({ type: 'targetReady', key: '2', instances: [{ id: '2-1', url: 'http://b' }] }, 1000);
  return d;
}

const stats = windowStats;
const healthy: Observation = healthyEvidence;
const failing = (rate: number): Observation => ({
  canary: stats(200, Math.round(200 * rate)),
  baseline: stats(2000, 2),
  canaryCrashes: 0,
  baselineCrashes: 0,
});

const bg = (o: Partial<BlueGreenPlan> = {}): BlueGreenPlan => ({
  preview: { header: 'x-preview', value: 'yes' },
  prePromotionAnalysis: true,
  autoPromotion: true,
  postPromotionMs: 0,
  ...o,
});
const bluePlan = (o: Partial<BlueGreenPlan> = {}, rest: Partial<ReleasePlan> = {}): ReleasePlan => ({
  strategy: 'blueGreen',
  steps: blueGreenSteps(bg(o)),
  blueGreen: bg(o),
  scaleDownDelayMs: 30_000,
  verifyMs: 0,
  probes: null,
  ...rest,
});

test('setHeaderRoute sends the cohort to the canary before any percentage, and the route ends with the release', () => {
  const steps: ReleaseStep[] = [
    { kind: 'setHeaderRoute', match: { header: 'x-cohort', value: 'internal' } },
    { kind: 'pause', durationMs: 5_000 },
    { kind: 'setWeight', weight: 50 },
    { kind: 'pause', durationMs: 5_000 },
  ];
  const d = released(canaryPlan(steps));
  assert.deepEqual(d.state.routes, [{ key: '2', match: { header: 'x-cohort', value: 'internal' } }]);
  assert.deepEqual(d.state.weights, { '1': 100, '2': 0 });
  assert.equal(analysisDue(d.state, 1000), true, 'the cohort is canary traffic: the contract watches it');
  d.send({ type: 'observation', observation: healthy }, 2000);
  d.send({ type: 'tick' }, 6100);
  assert.deepEqual(d.state.weights, { '1': 50, '2': 50 });
  assert.equal(d.state.routes.length, 1, 'the route stays beside the percentage');
  d.send({ type: 'observation', observation: healthy }, 11_200);
  d.send({ type: 'tick' }, 11_300);
  assert.equal(d.state.release!.status, 'Succeeded');
  assert.deepEqual(d.state.routes, []);
});

test('a rollback clears the cohort route with the weights', () => {
  const d = released(
    canaryPlan([
      { kind: 'setHeaderRoute', match: { cookie: 'beta', value: '1' } },
      { kind: 'pause', durationMs: null },
    ]),
  );
  d.send({ type: 'observation', observation: failing(0.2) }, 2000);
  assert.equal(d.state.release!.status, 'RolledBack');
  assert.deepEqual(d.state.routes, []);
  assert.deepEqual(d.state.weights, { '1': 100 });
});

test('blue-green: preview by header, pre-promotion analysis, 100% at once, the old revision kept warm, instant undo', () => {
  const d = released(bluePlan());
  assert.deepEqual(d.state.routes, [{ key: '2', match: { header: 'x-preview', value: 'yes' } }]);
  assert.deepEqual(d.state.weights, { '1': 100, '2': 0 }, 'no user traffic before the switch');
  d.send({ type: 'tick' }, 1500);
  assert.equal(d.state.weights['2'], 0, 'the switch waits for the analysis');
  d.send({ type: 'observation', observation: healthy }, 2000);
  assert.deepEqual(d.state.weights, { '1': 0, '2': 100 }, 'one switch, no intermediate weight');
  assert.equal(
    d.events.filter((e) => e.type === 'traffic.shifted' && Object.values(e.weights).some((w) => w > 0 && w < 100))
      .length,
    0,
  );
  assert.equal(d.state.release!.status, 'Succeeded');
  assert.deepEqual(d.state.routes, []);
  assert.equal(d.state.runtimes['1']?.status, 'ready', 'kept warm for scaleDownDelay');
  assert.deepEqual(d.state.release!.retire, { key: '1', at: 32_000 });

  // undo inside the window: no start-up, back to 100% on 1 in the same decision
  const undo = d.send(
    { type: 'startRelease', kind: 'undo', to: { key: '1', version: '1.0.0' }, steps: [], contract: contract() },
    10_000,
    'alice',
  );
  assert.equal(
    undo.actions.some((a) => a.kind === 'startTarget'),
    false,
  );
  assert.deepEqual(d.state.weights, { '1': 100 });
  assert.equal(d.state.release!.status, 'Succeeded');
  assert.deepEqual(d.state.stable, { key: '1', version: '1.0.0' });
});

test('blue-green: the warm revision is stopped when scaleDownDelay has passed', () => {
  const d = released(bluePlan({ prePromotionAnalysis: false }));
  assert.equal(d.state.release!.status, 'Succeeded');
  d.send({ type: 'tick' }, 30_000);
  assert.equal(d.state.runtimes['1']?.status, 'ready');
  const { actions } = d.send({ type: 'tick' }, 31_001);
  assert.ok(actions.some((a) => a.kind === 'stopTarget' && a.key === '1' && a.purpose === 'retire'));
  assert.equal(d.state.runtimes['1'], undefined);
});

test('blue-green: autoPromotion false waits for promote; after: 5m switches by itself', () => {
  const manual = released(bluePlan({ prePromotionAnalysis: false, autoPromotion: false }));
  assert.equal(phaseOf(manual.state), 'Paused');
  manual.send({ type: 'command', command: { kind: 'promote', full: false } }, 5_000, 'alice');
  assert.deepEqual(manual.state.weights, { '1': 0, '2': 100 });

  const timed = released(bluePlan({ prePromotionAnalysis: false, autoPromotion: { afterMs: 300_000 } }));
  timed.send({ type: 'tick' }, 300_000);
  assert.equal(timed.state.weights['2'], 0);
  timed.send({ type: 'tick' }, 301_000);
  assert.equal(timed.state.weights['2'], 100);
});

test('post-promotion analysis watches the new active revision against the frozen baseline, and rolls back on failure', () => {
  const d = released(bluePlan({ postPromotionMs: 60_000 }));
  d.send({ type: 'observation', observation: healthy }, 2000);
  assert.deepEqual(d.state.weights, { '1': 0, '2': 100 });
  assert.equal(d.state.release!.status, 'Progressing');
  // at 100% the baseline has no traffic: baseline rules become fixed thresholds from its last figures
  d.send({ type: 'observation', observation: { ...failing(0.05), baseline: { kind: 'noData' } } }, 3000);
  const frozen = d.events.find((e) => e.type === 'contract.frozen');
  assert.ok(frozen, 'the frozen contract is recorded');
  assert.match(
    frozen.type === 'contract.frozen' ? frozen.detail : '',
    /error_rate above 1\.10% \(last baseline 0\.10%\)/,
  );
  assert.equal(d.state.release!.status, 'RolledBack');
  assert.deepEqual(d.state.weights, { '1': 100 }, 'the old revision was warm: all traffic back at once');
});

test('Verify: at 100% the release is Verifying, still watched; it succeeds only when the window has passed', () => {
  const v = released({ ...canaryPlan([{ kind: 'setWeight', weight: 50 }]), verifyMs: 86_400_000 });
  v.send({ type: 'observation', observation: healthy }, 2000);
  assert.equal(phaseOf(v.state), 'Verifying');
  assert.equal(v.state.runtimes['1']?.status, 'ready', 'the previous revision stays for an instant rollback');
  v.send({ type: 'observation', observation: { ...healthy, baseline: { kind: 'noData' } } }, 3000);
  assert.equal(v.state.release!.rules['error_rate']?.last?.outcome, 'Pass', 'judged against the frozen baseline');
  v.send({ type: 'tick' }, 2000 + 86_399_000);
  assert.equal(phaseOf(v.state), 'Verifying');
  v.send({ type: 'tick' }, 2000 + 86_400_000);
  assert.equal(v.state.release!.status, 'Succeeded');
  assert.equal(v.state.runtimes['1'], undefined, 'retired once verified');
});

test('Verify: a failure in the window rolls back to the previous revision', () => {
  const v = released({ ...canaryPlan([{ kind: 'setWeight', weight: 50 }]), verifyMs: 3_600_000 });
  v.send({ type: 'observation', observation: healthy }, 2000);
  assert.equal(phaseOf(v.state), 'Verifying');
  v.send({ type: 'observation', observation: { ...failing(0.3), baseline: { kind: 'noData' } } }, 600_000);
  assert.equal(phaseOf(v.state), 'RolledBack');
  assert.deepEqual(v.state.weights, { '1': 100 });
  assert.equal(v.state.stable?.key, '1');
  assert.notEqual(v.state.release!.rollback!.trafficRevertedAt, null);
});

test('onFail: pause holds the weights and pauses once; a person decides', () => {
  const d = released(
    canaryPlan([
      { kind: 'setWeight', weight: 20 },
      { kind: 'pause', durationMs: null },
    ]),
    { ...contract(), onFail: 'pause' },
  );
  d.send({ type: 'observation', observation: failing(0.2) }, 2000);
  d.send({ type: 'observation', observation: failing(0.2) }, 3000);
  assert.equal(phaseOf(d.state), 'Paused');
  assert.equal(d.state.release!.pause?.reason, 'failed');
  assert.deepEqual(d.state.weights, { '1': 80, '2': 20 });
  assert.equal(d.events.filter((e) => e.type === 'release.paused' && e.reason === 'failed').length, 1);
  d.send({ type: 'command', command: { kind: 'abort' } }, 4000, 'alice');
  assert.deepEqual(d.state.weights, { '1': 100 });
});

test('revert: gradual walks the canary down one step per interval, and the revert counts when it reaches 0', () => {
  const c: Contract = { ...contract(), revert: { kind: 'gradual', steps: [50, 20, 0], intervalMs: 10_000 } };
  const d = released(
    canaryPlan([
      { kind: 'setWeight', weight: 60 },
      { kind: 'pause', durationMs: null },
    ]),
    c,
  );
  d.send({ type: 'observation', observation: failing(0.1) }, 2000);
  assert.equal(d.state.release!.status, 'RolledBack');
  assert.deepEqual(d.state.weights, { '1': 50, '2': 50 });
  assert.equal(d.state.release!.rollback!.trafficRevertedAt, null);
  d.send({ type: 'tick' }, 11_999);
  assert.equal(d.state.weights['2'], 50);
  d.send({ type: 'tick' }, 12_000);
  assert.equal(d.state.weights['2'], 20);
  const last = d.send({ type: 'tick' }, 22_000);
  assert.deepEqual(d.state.weights, { '1': 100 });
  assert.ok(last.actions.some((a) => a.kind === 'stopTarget' && a.key === '2'));
  assert.equal(d.state.release!.rollback!.revertMs, 20_000);
});

test('revert: gradual is refused for a canary failing (nearly) every request, and the refusal is recorded', () => {
  const c: Contract = { ...contract(), revert: { kind: 'gradual', steps: [50, 20, 0], intervalMs: 10_000 } };
  const d = released(
    canaryPlan([
      { kind: 'setWeight', weight: 60 },
      { kind: 'pause', durationMs: null },
    ]),
    c,
  );
  d.send({ type: 'observation', observation: failing(1) }, 2000);
  assert.deepEqual(d.state.weights, { '1': 100 });
  const refused = d.events.find((e) => e.type === 'rollback.gradualRefused');
  assert.match(refused?.type === 'rollback.gradualRefused' ? refused.reason : '', /fails 100\.0% of requests/);
  assert.equal(d.state.release!.rollback!.revertMs, 0);
});

test('revert: gradual is refused for a failure without request figures (probes, smoke)', () => {
  const c: Contract = { ...contract(), revert: { kind: 'gradual', steps: [50, 20, 0], intervalMs: 10_000 } };
  const d = released(
    canaryPlan([
      { kind: 'setWeight', weight: 60 },
      { kind: 'pause', durationMs: null },
    ]),
    c,
  );
  d.send({ type: 'probeFailed', key: '2', instanceId: '2-1', url: 'http://b/', failures: 3, evidence: [] }, 2000);
  assert.deepEqual(d.state.weights, { '1': 100 });
  assert.ok(
    d.events.some((e) => e.type === 'rollback.gradualRefused' && /probe failed with no request figures/.test(e.reason)),
  );
});

test('smoke: the step runs its check beside the loop, moves on when it passes and fails the release when it fails', () => {
  const steps: ReleaseStep[] = [
    { kind: 'setWeight', weight: 10 },
    { kind: 'smoke', check: { command: ['true'] }, timeoutMs: 30_000 },
    { kind: 'setWeight', weight: 50 },
    { kind: 'pause', durationMs: null },
  ];
  const run = released(canaryPlan(steps));
  assert.equal(run.state.release!.smoke?.ok, null);
  run.send({ type: 'tick' }, 1500);
  assert.equal(run.events.filter((e) => e.type === 'smoke.started').length, 1, 'not started again while it runs');
  run.send({ type: 'smokeResult', index: 1, ok: true, detail: 'true exited 0', durationMs: 12 }, 2000);
  assert.equal(run.state.weights['2'], 10, 'a passed smoke check is not evidence from the contract');
  run.send({ type: 'observation', observation: healthy }, 2500);
  assert.equal(run.state.weights['2'], 50);

  const bad = released(canaryPlan(steps));
  bad.send({ type: 'smokeResult', index: 1, ok: false, detail: 'curl exited 22', durationMs: 40 }, 2000);
  assert.equal(bad.state.release!.status, 'RolledBack');
  assert.equal(bad.state.release!.rollback!.trigger, 'smoke (step 2)');
  assert.match(bad.state.release!.rollback!.reason, /curl exited 22/);

  const silent = released(canaryPlan(steps));
  silent.send({ type: 'tick' }, 1000 + 30_000 + 5_001);
  assert.equal(silent.state.release!.status, 'RolledBack', 'a check that never answers fails');
});

test('probes: N failures in a row of a canary instance fail the release, with the evidence recorded', () => {
  const d = released(
    canaryPlan([
      { kind: 'setWeight', weight: 10 },
      { kind: 'pause', durationMs: null },
    ]),
  );
  const evidence = [1, 2, 3].map((i) => ({ at: 1000 + i * 1000, status: null, error: 'ECONNREFUSED' }));
  d.send({ type: 'probeFailed', key: '2', instanceId: '2-1', url: 'http://b/healthz', failures: 3, evidence }, 4000);
  const e = d.events.find((x) => x.type === 'probe.failed');
  assert.deepEqual(e?.type === 'probe.failed' ? e.evidence : null, evidence);
  assert.equal(d.state.release!.status, 'RolledBack');
  assert.match(d.state.release!.rollback!.reason, /failed 3 probes in a row; last: ECONNREFUSED/);
});
