import type { DecisionBuilder } from './decision.ts';
import { isActive } from './state.ts';
import type { RollbackLog, Verdict } from './types.ts';

/**
 * Send all traffic back to the stable revision, in this decision, then drain and stop the canary.
 * The weights go first: a rollback never waits for the canary to stop.
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
  const log: RollbackLog = {
    kind, trigger, reason, verdicts, actor: b.actor,
    detectedAt: b.now, trafficRevertedAt: null, canaryStoppedAt: null, revertMs: null,
  };
  b.emit({ type: 'rollback.started', log, status });
  if (r.from !== null) {
    const weights = { [r.from.key]: 100, [r.to.key]: 0 };
    b.emit({ type: 'traffic.shifted', weights, reason: `rollback: ${trigger}` });
    b.act({ kind: 'setWeights', weights, purpose: 'rollback' });
  } else {
    // A first deploy has nothing to go back to: no traffic moves, the log says so.
    b.emit({ type: 'rollback.trafficReverted', at: b.now });
  }
  if (b.state.runtimes[r.to.key] !== undefined && r.to.key !== r.from?.key) {
    b.emit({ type: 'target.stopping', key: r.to.key });
    b.act({ kind: 'stopTarget', key: r.to.key, drain: true, purpose: 'rollback' });
  } else {
    b.emit({ type: 'rollback.canaryStopped', at: b.now });
  }
}
