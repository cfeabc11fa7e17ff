import type { DecisionBuilder } from './decision.ts';
import { isActive } from './state.ts';
import type { CohortMatch } from './strategy.ts';
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

/** Route a cohort to the new revision (`null` clears); the revision joins the table at its weight (0) so the router knows it. */
export function setCohortRoute(b: DecisionBuilder, match: CohortMatch | null, reason: string): void {
  const r = b.state.release;
  if (r === null) return;
  if (match !== null && b.state.weights[r.to.key] === undefined) shift(b, 0, `${reason}: the new revision joins the route table at 0%`, 'step');
  b.emit({ type: 'routes.set', routes: match === null ? [] : [{ key: r.to.key, match }], reason });
  b.act({ kind: 'setRoutes' });
}

/** A release that ends takes its cohort routes with it. */
export function clearRoutes(b: DecisionBuilder, reason: string): void {
  if (b.state.routes.length === 0) return;
  b.emit({ type: 'routes.set', routes: [], reason });
  b.act({ kind: 'setRoutes' });
}

/** True when every rule's latest verdict is Pass: nothing unmeasured is promoted automatically. */
export function allRulesPass(b: DecisionBuilder): boolean {
  const r = b.state.release;
  if (r === null) return false;
  return r.contract.rules.every((rule) => r.rules[rule.name]?.last?.outcome === 'Pass');
}

export function anyRuleFailing(b: DecisionBuilder): boolean {
  const r = b.state.release;
  if (r === null) return false;
  return Object.values(r.rules).some((s) => s.last?.outcome === 'Fail');
}

/** Move all traffic to the new revision; the release succeeds (or starts Verifying) when the router confirms it. */
export function complete(b: DecisionBuilder): void {
  const r = b.state.release;
  if (!isActive(r) || r.completing || r.status === 'Verifying') return;
  clearRoutes(b, 'release complete');
  shift(b, 100, r.from === null ? 'first deploy' : 'release complete', r.from === null ? 'deploy' : 'promote');
  b.emit({ type: 'release.completing' });
}

/** The router serves 100%: verify for the configured window, or succeed now. */
export function reachedFull(b: DecisionBuilder): void {
  const r = b.state.release;
  if (!isActive(r) || !r.completing) return;
  if (r.from !== null && r.plan.verifyMs > 0) b.emit({ type: 'release.verifying', until: b.now + r.plan.verifyMs });
  else succeed(b);
}

/** Mark the release done and retire the revision it replaced, at once or after the scale-down delay. */
export function succeed(b: DecisionBuilder): void {
  const r = b.state.release;
  if (!isActive(r)) return;
  clearRoutes(b, 'release succeeded');
  b.emit({ type: 'release.succeeded', stable: r.to });
  if (r.from === null || r.from.key === r.to.key || b.state.runtimes[r.from.key] === undefined) return;
  if (r.plan.scaleDownDelayMs > 0) {
    b.emit({ type: 'target.retireScheduled', key: r.from.key, until: b.now + r.plan.scaleDownDelayMs });
  } else {
    b.emit({ type: 'target.stopping', key: r.from.key });
    b.act({ kind: 'stopTarget', key: r.from.key, drain: true, purpose: 'retire' });
  }
}

const next = (b: DecisionBuilder, index: number) =>
  b.emit({ type: 'step.started', index: index + 1, step: b.state.release?.steps[index + 1] ?? null });

/**
 * Walk the steps as far as time and verdicts allow: weights and routes are set at once, timed
 * pauses end when their time is up (and no rule is failing), an open pause waits for a promote,
 * a smoke step waits for its check and an analysis step for every rule to pass; after the last
 * step the release completes once every rule passes.
 */
export function advance(b: DecisionBuilder): void {
  for (let guard = 0; guard < 1000; guard++) {
    const r = b.state.release;
    if (!isActive(r) || r.status !== 'Progressing' || r.completing) return;
    const i = r.stepIndex;
    const step = r.steps[i];
    if (step === undefined) {
      // Blue-green has switched already; what it asked to be judged, its analysis steps judged.
      const switched = r.plan.strategy === 'blueGreen' && (b.state.weights[r.to.key] ?? 0) === 100;
      if (switched || allRulesPass(b)) complete(b);
      return;
    }
    const label = `step ${i + 1}`;
    switch (step.kind) {
      case 'setWeight':
        if ((b.state.weights[r.to.key] ?? 0) !== step.weight) shift(b, step.weight, `${label}: setWeight ${step.weight}`, 'step');
        next(b, i);
        continue;
      case 'setHeaderRoute':
        setCohortRoute(b, step.match, `${label}: setHeaderRoute`);
        next(b, i);
        continue;
      case 'analysis':
        if (!allRulesPass(b)) return;
        next(b, i);
        continue;
      case 'smoke':
        if (r.smoke?.index !== i || r.smoke.ok === false) {
          // Not run yet at this step, or failed and the user resumed: run it (again).
          b.emit({ type: 'smoke.started', index: i, check: step.check, timeoutMs: step.timeoutMs });
          b.act({ kind: 'runSmoke', index: i, check: step.check, timeoutMs: step.timeoutMs });
          return;
        }
        if (r.smoke.ok !== true) return;
        next(b, i);
        continue;
      case 'pause':
        if (step.durationMs === null) {
          b.emit({ type: 'release.paused', reason: 'step', detail: `${label} waits for promote` });
          return;
        }
        if (b.now < r.stepStartedAt + step.durationMs || anyRuleFailing(b)) return;
        next(b, i);
        continue;
    }
  }
}
