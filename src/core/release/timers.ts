import type { DecisionBuilder } from './decision.ts';
import { smokeFinished } from './gates.ts';
import { anyRuleFailing, succeed } from './progression.ts';
import { revertTo, stopCanary } from './rollback.ts';

/** A smoke check with no result this long after its own timeout is failed by the core (the runner died). */
export const SMOKE_GRACE_MS = 5_000;

/**
 * What time alone moves, checked on every tick: the end of the verify window, the next step of a
 * gradual revert, retiring a revision kept warm, and a smoke check that never answered.
 */
export function onTimers(b: DecisionBuilder): void {
  const r = b.state.release;
  if (r === null) return;
  const now = b.now;
  if (
    r.status === 'Verifying' &&
    r.verifyingSince !== null &&
    now >= r.verifyingSince + r.plan.verifyMs &&
    !anyRuleFailing(b)
  ) {
    succeed(b);
  }
  if (r.revert !== null && now >= r.revert.nextAt) {
    const weight = r.revert.steps[0] ?? 0;
    const step = r.revert.steps.length;
    revertTo(
      b,
      weight,
      `rollback: ${r.rollback?.trigger ?? 'gradual'} (gradual, ${step === 1 ? 'last step' : `${step} steps to go`})`,
    );
    if (weight === 0) stopCanary(b);
  }
  const retire = b.state.release?.retire;
  if (retire && now >= retire.at && b.state.runtimes[retire.key]?.status === 'ready') {
    b.emit({ type: 'target.stopping', key: retire.key });
    b.act({ kind: 'stopTarget', key: retire.key, drain: true, purpose: 'retire' });
  }
  const smoke = b.state.release?.smoke;
  const step = smoke ? b.state.release?.steps[smoke.index] : undefined;
  if (smoke && smoke.ok === null && step?.kind === 'smoke' && now > smoke.startedAt + step.timeoutMs + SMOKE_GRACE_MS) {
    smokeFinished(b, {
      index: smoke.index,
      ok: false,
      detail: `no result ${Math.round((now - smoke.startedAt) / 1000)}s after the smoke check started`,
      durationMs: now - smoke.startedAt,
    });
  }
}
