import { type Command, type Decision, DecisionBuilder, type Input } from './decision.ts';
import { observe } from '../analysis/analysis.ts';
import { freezeContractAtFull } from './contract-freeze.ts';
import { routerDied } from './data-plane.ts';
import { hostsApplied } from './hosts.ts';
import { probeFailed, smokeFinished } from './gates.ts';
import { advance, complete, reachedFull, rulesWithoutEvidence, succeed } from './progression.ts';
import { rollBack } from './rollback.ts';
import { canaryTakesTraffic, isActive, RELEASE_DEFAULTS, type ReleaseState, type ServiceState } from './state.ts';
import { canaryPlan } from './strategy.ts';
import { onTimers } from './timers.ts';
import type { Instance, Weights } from '../types.ts';

/**
 * The core's one entry point: given the state, something that happened, the time and who asked,
 * return the events to record and the actions to perform. Pure: no I/O, no clock.
 */
export function decide(state: ServiceState, input: Input, now: number, actor: string): Decision {
  const b = new DecisionBuilder(state, now, actor);
  switch (input.type) {
    case 'tick':
      onTimers(b);
      advance(b);
      return b.done();
    case 'observation':
      freezeContractAtFull(b);
      observe(b, input.observation);
      return b.done();
    case 'smokeResult':
      smokeFinished(b, input);
      return b.done();
    case 'probeFailed':
      probeFailed(b, input);
      return b.done();
    case 'command':
      return command(b, input.command);
    case 'startRelease':
      return startRelease(b, input);
    case 'targetReady':
      targetReady(b, input.key, input.instances);
      return b.done();
    case 'targetFailed':
      targetFailed(b, input.key, input.error);
      return b.done();
    case 'targetStopped':
      b.emit({ type: 'target.stopped', key: input.key, error: input.error });
      if (
        b.state.release?.rollback &&
        b.state.release.to.key === input.key &&
        b.state.release.rollback.canaryStoppedAt === null
      ) {
        b.emit({ type: 'rollback.canaryStopped', at: now });
      }
      return b.done();
    case 'targetCrashed':
      targetCrashed(b, input);
      return b.done();
    case 'weightsApplied':
      weightsApplied(b, input.weights);
      return b.done();
    case 'routerDied':
      routerDied(b, input);
      return b.done();
    case 'hostsApplied':
      hostsApplied(b, input);
      return b.done();
    case 'signal':
      b.emit({ type: 'signal.received', signal: input.signal, detail: input.detail, source: input.source });
      return b.done();
  }
}

/** Whether the contract is due for an evaluation: a release is active, the canary takes traffic (weight or cohort), the interval passed. */
export function analysisDue(state: ServiceState, now: number): boolean {
  const r = state.release;
  if (!isActive(r) || r.from === null || r.completing || !canaryTakesTraffic(state)) return false;
  return r.analysedAt === null || now - r.analysedAt >= r.contract.intervalMs;
}

const sameWeights = (a: Weights, b: Weights) => Object.keys({ ...a, ...b }).every((k) => (a[k] ?? 0) === (b[k] ?? 0));

/** The router serves these weights now: a rollback's revert and a release's completion are facts only then. */
function weightsApplied(b: DecisionBuilder, weights: Weights): void {
  if (!sameWeights(weights, b.state.weights)) return; // an older table; a newer apply is on its way
  if (!sameWeights(weights, b.state.appliedWeights)) b.emit({ type: 'traffic.applied', weights });
  const r = b.state.release;
  // Reverted means the canary has no traffic left (a gradual revert gets there step by step).
  if (r?.rollback && r.rollback.trafficRevertedAt === null && (weights[r.to.key] ?? 0) === 0)
    b.emit({ type: 'rollback.trafficReverted', at: b.now });
  if (isActive(r) && r.completing) reachedFull(b);
}

function command(b: DecisionBuilder, cmd: Command): Decision {
  const r = b.state.release;
  const conflict = (message: string): Decision => b.done({ code: 'conflict', message });
  if (cmd.kind === 'retry') {
    if (r === null || isActive(r) || r.status === 'Succeeded')
      return conflict('retry needs a release that was rolled back, aborted or failed');
    return startRelease(b, {
      type: 'startRelease',
      kind: 'retry',
      to: r.to,
      steps: r.steps,
      contract: r.contract,
      plan: { ...r.plan, steps: r.steps },
    });
  }
  if (!isActive(r)) return conflict(`no release of ${b.state.service} is in progress`);
  switch (cmd.kind) {
    case 'abort':
      rollBack(b, 'abort', 'abort', cmd.reason ?? `aborted by ${b.actor}`, [], 'Aborted');
      return b.done();
    case 'pause':
      if (r.status !== 'Progressing') return conflict(`the release is ${r.status}, not Progressing`);
      b.emit({ type: 'release.paused', reason: 'user', detail: `paused by ${b.actor}` });
      return b.done();
    case 'resume':
      if (r.status !== 'Paused') return conflict(`the release is ${r.status}, not Paused`);
      if (r.pause?.reason === 'step') return conflict(`${r.pause.detail}: use promote`);
      b.emit({ type: 'release.resumed' });
      advance(b);
      return b.done();
    case 'promote':
      if (r.status === 'Starting') return conflict('the new revision is not ready yet');
      {
        // A person may move on without evidence; the log keeps what the verdicts said at that moment.
        const verdicts = r.contract.rules.flatMap((rule) => r.rules[rule.name]?.last ?? []);
        const withoutEvidence = rulesWithoutEvidence(r);
        b.emit({
          type: 'release.promoted',
          full: cmd.full,
          fromStep: r.stepIndex,
          verdicts,
          withoutEvidence,
          ...(cmd.reason !== undefined && { reason: cmd.reason }),
        });
      }
      if (r.status === 'Verifying') {
        succeed(b); // a person accepts the release before the verify window ends
      } else if (cmd.full || r.stepIndex >= r.steps.length) {
        complete(b);
      } else {
        b.emit({ type: 'step.started', index: r.stepIndex + 1, step: r.steps[r.stepIndex + 1] ?? null });
        advance(b, { promoted: true });
      }
      return b.done();
  }
}

function startRelease(b: DecisionBuilder, input: Extract<Input, { type: 'startRelease' }>): Decision {
  const prev = b.state.release;
  if (isActive(prev)) {
    if (prev.to.key === input.to.key)
      return b.done({ code: 'conflict', message: `revision ${input.to.key} is already being released` });
    rollBack(b, 'abort', 'superseded', `superseded by revision ${input.to.key} (${input.to.version})`, [], 'Aborted');
  }
  const from = b.state.stable;
  if (from !== null && from.key === input.to.key)
    return b.done({ code: 'conflict', message: `revision ${input.to.key} is already stable` });
  const number = b.state.releases + 1;
  const { steps: _steps, ...plan } = input.plan ?? canaryPlan(input.steps);
  const release: ReleaseState = {
    ...RELEASE_DEFAULTS,
    id: `${b.state.service}#${number}`,
    number,
    kind: from === null ? 'deploy' : input.kind,
    from,
    to: input.to,
    steps: input.plan?.steps ?? input.steps,
    plan,
    contract: input.contract,
    status: 'Starting',
    startedAt: b.now,
    startedBy: b.actor,
    endedAt: null,
    stepIndex: 0,
    stepStartedAt: b.now,
    pause: null,
    completing: false,
    rules: {},
    analysedAt: null,
    rollback: null,
    error: null,
  };
  b.emit({ type: 'release.started', release });
  // Revisions kept warm for an earlier undo window are not needed once another release starts.
  for (const rt of Object.values(b.state.runtimes)) {
    if (rt.status === 'ready' && rt.key !== from?.key && rt.key !== input.to.key) {
      b.emit({ type: 'target.stopping', key: rt.key });
      b.act({ kind: 'stopTarget', key: rt.key, drain: true, purpose: 'retire' });
    }
  }
  const warm = b.state.runtimes[input.to.key];
  if (warm?.status === 'ready') {
    // Still running (kept warm after the release it replaced): no start-up. An undo to it is
    // a return to a known-good revision, so it switches at once.
    if (input.kind === 'undo') complete(b);
    else begin(b);
    return b.done();
  }
  b.emit({ type: 'target.starting', ref: input.to });
  b.act({ kind: 'startTarget', ref: input.to });
  return b.done();
}

/** The new revision is ready: a first deploy goes to 100%, a release starts its first step. */
function begin(b: DecisionBuilder): void {
  const r = b.state.release;
  if (!isActive(r)) return;
  if (r.from === null) {
    complete(b);
    return;
  }
  b.emit({ type: 'step.started', index: 0, step: r.steps[0] ?? null });
  advance(b);
}

function targetReady(b: DecisionBuilder, key: string, instances: Instance[]): void {
  b.emit({ type: 'target.ready', key, instances });
  const r = b.state.release;
  if (!isActive(r) || r.to.key !== key || r.status !== 'Starting') return;
  begin(b);
}

function targetFailed(b: DecisionBuilder, key: string, error: string): void {
  b.emit({ type: 'target.failed', key, error });
  const r = b.state.release;
  if (isActive(r) && r.to.key === key) {
    if (r.from === null) {
      b.emit({ type: 'release.failed', error });
      b.emit({ type: 'service.degraded', reason: `first deploy of ${r.to.version} failed: ${error}` });
    } else {
      rollBack(
        b,
        'readiness',
        'readiness',
        `revision ${key} (${r.to.version}) did not become ready: ${error}`,
        [],
        'RolledBack',
      );
    }
  } else if (b.state.stable?.key === key) {
    b.emit({ type: 'service.degraded', reason: `stable revision ${key} failed: ${error}` });
  }
}

function targetCrashed(b: DecisionBuilder, input: Extract<Input, { type: 'targetCrashed' }>): void {
  b.emit({
    type: 'target.crashed',
    key: input.key,
    instanceId: input.instanceId,
    exitCode: input.exitCode,
    signal: input.signal,
    restarted: input.restarted,
  });
  if (input.restarted) return;
  const r = b.state.release;
  const what = `instance ${input.instanceId} exited (code ${input.exitCode ?? '-'}, signal ${input.signal ?? '-'}) and was not restarted`;
  if (isActive(r) && r.to.key === input.key && r.from !== null) {
    rollBack(b, 'crash', 'crash', `canary ${what}`, [], 'RolledBack');
  } else if (b.state.stable?.key === input.key) {
    b.emit({ type: 'service.degraded', reason: `stable ${what}` });
  }
}
