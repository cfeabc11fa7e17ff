import type { DecisionBuilder, Input } from './decision.ts';
import { advance } from './progression.ts';
import { rollBack } from './rollback.ts';
import { isActive } from './state.ts';

/** A smoke step's check finished: move on when it passed, fail the release when it did not. */
export function smokeFinished(b: DecisionBuilder, input: Omit<Extract<Input, { type: 'smokeResult' }>, 'type'>): void {
  const r = b.state.release;
  // A result for a step the release has left (or for an earlier run) is history, not a verdict.
  if (!isActive(r) || r.smoke?.index !== input.index || r.smoke.ok !== null || r.stepIndex !== input.index) return;
  b.emit({
    type: 'smoke.finished',
    index: input.index,
    ok: input.ok,
    detail: input.detail,
    durationMs: input.durationMs,
  });
  if (input.ok) {
    advance(b);
    return;
  }
  rollBack(b, 'contract', `smoke (step ${input.index + 1})`, `smoke check failed: ${input.detail}`, [], 'RolledBack');
}

/** Probes of an instance of the new revision failed too often in a row: the release fails, with the evidence. */
export function probeFailed(b: DecisionBuilder, input: Extract<Input, { type: 'probeFailed' }>): void {
  const r = b.state.release;
  if (!isActive(r) || r.to.key !== input.key || r.from === null) return;
  const { type: _, ...failure } = input;
  b.emit({ type: 'probe.failed', ...failure });
  const last = input.evidence.at(-1);
  const what =
    last?.error ?? (last?.status !== null && last?.status !== undefined ? `HTTP ${last.status}` : 'no answer');
  rollBack(
    b,
    'contract',
    'probe',
    `instance ${input.instanceId} (${input.url}) failed ${input.failures} probes in a row; last: ${what}`,
    [],
    'RolledBack',
  );
}
