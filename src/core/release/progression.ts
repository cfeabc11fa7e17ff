import type { DecisionBuilder } from './decision.ts';
import { canaryTakesTraffic, isActive, type ReleaseState } from './state.ts';
import type { CohortMatch } from './strategy.ts';
import type { Weights } from '../types.ts';

/** Put `canaryWeight`% on the release's new revision and the rest on the one it replaces. */
export function shift(
  b: DecisionBuilder,
  canaryWeight: number,
  reason: string,
  purpose: 'step' | 'promote' | 'deploy',
): void {
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
  if (match !== null && b.state.weights[r.to.key] === undefined)
    shift(b, 0, `${reason}: the new revision joins the route table at 0%`, 'step');
  b.emit({ type: 'routes.set', routes: match === null ? [] : [{ key: r.to.key, match }], reason });
  b.act({ kind: 'setRoutes' });
}

/** A release that ends takes its cohort routes with it. */
export function clearRoutes(b: DecisionBuilder, reason: string): void {
  if (b.state.routes.length === 0) return;
  b.emit({ type: 'routes.set', routes: [], reason });
  b.act({ kind: 'setRoutes' });
}

/**
 * True when every rule's latest verdict is Pass and was judged at the canary's current share of
 * traffic: nothing unmeasured is promoted automatically, and evidence gathered at 10% does not
 * carry a step from 50%.
 */
export function allRulesPass(b: DecisionBuilder): boolean {
  const r = b.state.release;
  return r !== null && rulesWithoutEvidence(r).length === 0;
}

/** The rules whose latest verdict is not a Pass at the canary's current share of traffic. */
export function rulesWithoutEvidence(r: ReleaseState): string[] {
  const since = r.level?.since ?? -Infinity;
  return r.contract.rules
    .filter((rule) => {
      const last = r.rules[rule.name]?.last;
      return !(last?.outcome === 'Pass' && last.at > since);
    })
    .map((rule) => rule.name);
}

/**
 * Whether moving on needs evidence first: a canary takes traffic that a contract judges.
 * Blue-green's gates are its analysis steps (pre- and post-promotion), which the spec turns on.
 */
function judged(b: DecisionBuilder): boolean {
  const r = b.state.release;
  return r !== null && r.from !== null && r.plan.strategy !== 'blueGreen' && canaryTakesTraffic(b.state);
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
 * Walk the steps as far as time and evidence allow. A step that gives the canary more traffic,
 * the end of a timed pause (its duration is a minimum), an analysis step and the completion after
 * the last step all wait until every rule is Pass at the canary's current share of traffic; while
 * a rule is Inconclusive the step holds (and after maxInconclusive the release pauses for a
 * person, see analysis.ts). An open pause waits for a promote, a smoke step for its check.
 */
export function advance(b: DecisionBuilder, options: { promoted?: boolean } = {}): void {
  for (let guard = 0; guard < 1000; guard++) {
    // A promote moves the step it starts on without waiting for evidence (recorded as such by the command).
    const needsEvidence = !(options.promoted === true && guard === 0);
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
      case 'setWeight': {
        const current = b.state.weights[r.to.key] ?? 0;
        if (needsEvidence && step.weight > current && judged(b) && !allRulesPass(b)) return;
        if (current !== step.weight) shift(b, step.weight, `${label}: setWeight ${step.weight}`, 'step');
        next(b, i);
        continue;
      }
      case 'setHeaderRoute':
        setCohortRoute(b, step.match, `${label}: setHeaderRoute`);
        next(b, i);
        continue;
      case 'analysis':
        if (!allRulesPass(b)) return;
        next(b, i);
        continue;
      case 'setFlag':
        // More exposure is more risk: like a setWeight that raises traffic, it waits for evidence.
        if (needsEvidence && step.percent > 0 && judged(b) && !allRulesPass(b)) return;
        b.act({
          kind: 'setFlag',
          flag: step.flag,
          environment: step.environment,
          percent: step.percent,
          rule: step.rule,
          reason: `${r.id} ${label}: setFlag ${step.percent}%`,
        });
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
        if (judged(b) && !allRulesPass(b)) return;
        next(b, i);
        continue;
    }
  }
}
