import type { DecisionBuilder } from './decision.ts';
import { isActive } from './state.ts';
import type { Weights } from './types.ts';

/** Put `canaryWeight`% on the release's new revision and the rest on the one it replaces. */
export function shift(b: DecisionBuilder, canaryWeight: number, reason: string, purpose: 'step' | 'promote' | 'deploy'): void {
  const r = b.state.release;
  if (r === null) return;
  const weights: Weights = { [r.to.key]: canaryWeight };
  if (r.from !== null) weights[r.from.key] = 100 - canaryWeight;
  b.emit({ type: 'traffic.shifted', weights, reason });
  b.act({ kind: 'setWeights', weights, purpose });
}

/** True when every rule's latest verdict is Pass: nothing unmeasured is promoted automatically. */
export function allRulesPass(b: DecisionBuilder): boolean {
  const r = b.state.release;
  if (r === null) return false;
  return r.contract.rules.every((rule) => r.rules[rule.name]?.last?.outcome === 'Pass');
}

function anyRuleFailing(b: DecisionBuilder): boolean {
  const r = b.state.release;
  if (r === null) return false;
  return Object.values(r.rules).some((s) => s.last?.outcome === 'Fail');
}

/** Move all traffic to the new revision; the release succeeds when the router confirms it. */
export function complete(b: DecisionBuilder): void {
  const r = b.state.release;
  if (!isActive(r) || r.completing) return;
  shift(b, 100, r.from === null ? 'first deploy' : 'release complete', r.from === null ? 'deploy' : 'promote');
  b.emit({ type: 'release.completing' });
}

/** Mark the release done and retire the revision it replaced. */
export function succeed(b: DecisionBuilder): void {
  const r = b.state.release;
  if (!isActive(r)) return;
  b.emit({ type: 'release.succeeded', stable: r.to });
  if (r.from !== null && r.from.key !== r.to.key && b.state.runtimes[r.from.key] !== undefined) {
    b.emit({ type: 'target.stopping', key: r.from.key });
    b.act({ kind: 'stopTarget', key: r.from.key, drain: true, purpose: 'retire' });
  }
}

/**
 * Walk the steps as far as time and verdicts allow: weights are set at once, timed pauses end
 * when their time is up (and no rule is failing), an open pause waits for a promote, and after the
 * last step the release completes once every rule passes.
 */
export function advance(b: DecisionBuilder): void {
  for (let guard = 0; guard < 1000; guard++) {
    const r = b.state.release;
    if (!isActive(r) || r.status !== 'Progressing' || r.completing) return;
    const step = r.steps[r.stepIndex];
    if (step === undefined) {
      if (allRulesPass(b)) complete(b);
      return;
    }
    if (step.kind === 'setWeight') {
      if ((b.state.weights[r.to.key] ?? 0) !== step.weight) shift(b, step.weight, `step ${r.stepIndex + 1}: setWeight ${step.weight}`, 'step');
      b.emit({ type: 'step.started', index: r.stepIndex + 1, step: r.steps[r.stepIndex + 1] ?? null });
      continue;
    }
    if (step.durationMs === null) {
      b.emit({ type: 'release.paused', reason: 'step', detail: `step ${r.stepIndex + 1} waits for promote` });
      return;
    }
    if (b.now < r.stepStartedAt + step.durationMs || anyRuleFailing(b)) return;
    b.emit({ type: 'step.started', index: r.stepIndex + 1, step: r.steps[r.stepIndex + 1] ?? null });
  }
}
