/**
 * A router over several hosts (one release, many hosts). Each apply reports when each host
 * confirmed the table and why the others did not. A host that did not confirm pauses a release in
 * progress: its traffic sits at other weights than the rest, so the evidence is partial, and the
 * release must not advance or promote on it; the engine keeps retrying the host, and a person
 * resumes once every host answers. During a rollback each host's revert time goes into the
 * rollback log (null until the host confirms; it is retried meanwhile).
 */
import type { DecisionBuilder, Input } from './decision.ts';

export function hostsApplied(b: DecisionBuilder, input: Extract<Input, { type: 'hostsApplied' }>): void {
  b.emit({
    type: 'router.hostsApplied',
    weights: input.weights,
    applied: input.applied,
    unreachable: input.unreachable,
  });
  const down = Object.entries(input.unreachable);
  const r = b.state.release;
  if (r?.status !== 'Progressing' || r.rollback !== null || down.length === 0) return;
  b.emit({
    type: 'release.paused',
    reason: 'dataPlane',
    detail:
      `${down.length === 1 ? 'host' : 'hosts'} ${down.map(([h, e]) => `${h} (${e})`).join(', ')} did not confirm the weights; ` +
      'the release does not advance on partial evidence. Sluice keeps retrying; resume once every host answers',
  });
}
