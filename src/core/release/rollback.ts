import type { DecisionBuilder } from './decision.ts';
import { clearRoutes } from './progression.ts';
import { isActive } from './state.ts';
import { modesOf } from './strategy.ts';
import type { RollbackLog, Verdict } from '../types.ts';

/** A canary failing at least this share of requests is never reverted gradually: its users come first. */
export const GRADUAL_REFUSED_AT_ERROR_RATE = 0.9;

/**
 * Send all traffic back to the stable revision, in this decision, then drain and stop the canary.
 * The weights go first: a rollback never waits for the canary to stop.
 *
 * A failed gate (`kind: 'contract'`) follows the contract's modes: `onFail: pause` holds the
 * release at its weights for a person instead; `revert: gradual` walks the canary's weight down
 * its steps, one per interval, unless the canary fails (nearly) every request or no figures show
 * how it serves.
 */
export function rollBack(
  b: DecisionBuilder,
  kind: RollbackLog['kind'],
  trigger: string,
  reason: string,
  verdicts: Verdict[],
  status: 'RolledBack' | 'Aborted',
): void {
  const r = b.state.release;
  if (!isActive(r)) return;
  const modes = modesOf(r.contract);
  if (kind === 'contract' && modes.onFail === 'pause') {
    if (r.status !== 'Paused' || r.pause?.reason !== 'failed') {
      b.emit({ type: 'release.paused', reason: 'failed', detail: `${trigger} failed (onFail: pause): ${reason}` });
    }
    return;
  }
  const log: RollbackLog = {
    kind,
    trigger,
    reason,
    verdicts,
    actor: b.actor,
    detectedAt: b.now,
    trafficRevertedAt: null,
    canaryStoppedAt: null,
    revertMs: null,
  };
  b.emit({ type: 'rollback.started', log, status });
  clearRoutes(b, `rollback: ${trigger}`);
  if (r.from === null) {
    // A first deploy has nothing to go back to: no traffic moves, the log says so.
    b.emit({ type: 'rollback.trafficReverted', at: b.now });
  } else {
    const canary = b.state.weights[r.to.key] ?? 0;
    const gradual = kind === 'contract' && modes.revert.kind === 'gradual' ? modes.revert : null;
    const steps =
      gradual === null ? [] : [...new Set([...gradual.steps.filter((w) => w < canary), 0])].sort((x, y) => y - x);
    const refusal = gradual !== null && steps.length > 1 ? refuseGradual(trigger, verdicts) : null;
    if (refusal !== null) b.emit({ type: 'rollback.gradualRefused', reason: refusal });
    if (gradual !== null && steps.length > 1 && refusal === null) {
      b.emit({ type: 'rollback.gradual', steps, intervalMs: gradual.intervalMs });
      revertTo(b, steps[0]!, `rollback: ${trigger} (gradual, step 1 of ${steps.length})`);
      return; // the canary is stopped when its weight reaches 0 (see timers.ts)
    }
    revertTo(b, 0, `rollback: ${trigger}`);
  }
  stopCanary(b);
}

/** The canary's weight becomes `canaryWeight`, the rest goes to stable. */
export function revertTo(b: DecisionBuilder, canaryWeight: number, reason: string): void {
  const r = b.state.release;
  if (r === null || r.from === null) return;
  const weights = { [r.from.key]: 100 - canaryWeight, [r.to.key]: canaryWeight };
  b.emit({ type: 'traffic.shifted', weights, reason });
  b.act({ kind: 'setWeights', weights, purpose: 'rollback' });
}

/** Drain and stop the release's new revision (nothing to stop when it is also the old one). */
export function stopCanary(b: DecisionBuilder): void {
  const r = b.state.release;
  if (r === null) return;
  if (b.state.runtimes[r.to.key] !== undefined && r.to.key !== r.from?.key) {
    b.emit({ type: 'target.stopping', key: r.to.key });
    b.act({ kind: 'stopTarget', key: r.to.key, drain: true, purpose: 'rollback' });
  } else {
    b.emit({ type: 'rollback.canaryStopped', at: b.now });
  }
}

/**
 * Why a gradual revert would hurt users, or null when it may go ahead: it needs figures showing
 * the canary still serves (a smoke check or probes failing give none), and no error rate near 100%.
 */
function refuseGradual(trigger: string, verdicts: Verdict[]): string | null {
  if (!verdicts.some((v) => v.canary !== null))
    return `${trigger} failed with no request figures of the canary: reverted instantly instead of gradually`;
  const worst = verdicts.reduce(
    (m, v) => (v.metric === 'error_rate' && v.canary !== null ? Math.max(m, v.canary) : m),
    -1,
  );
  if (worst >= GRADUAL_REFUSED_AT_ERROR_RATE) {
    return `the canary fails ${(worst * 100).toFixed(1)}% of requests (≥ ${GRADUAL_REFUSED_AT_ERROR_RATE * 100}%): reverted instantly instead of gradually`;
  }
  return null;
}
