/**
 * What a train's log says was done but its services do not show (pure). A train records its
 * decision first and then acts, so a runner that stopped in between — a replica killed, a member's
 * owner that did not answer — leaves a service `releasing` that never started, or `rollingBack`
 * with no rollback, or aborted with its release still going. The runner that takes the train on
 * performs these once before its next step; each is harmless when it did happen after all (the
 * engine starts no release a service already runs or is releasing).
 */
import type { ServiceObservation, TrainAction, TrainState } from './types.ts';

const ACTIVE = new Set(['Starting', 'Progressing', 'Paused', 'Verifying']);

export function pendingActions(t: TrainState, seen: Readonly<Record<string, ServiceObservation>>): TrainAction[] {
  if (t.status !== 'Running' && t.status !== 'RollingBack') return [];
  const actions: TrainAction[] = [];
  for (const s of t.services) {
    const o = seen[s.name];
    if (o === undefined) continue; // gone: the step says so
    const r = o.release;
    if (s.status === 'releasing') {
      const toVersion = r !== null && r.to === s.version;
      if (t.status === 'RollingBack') {
        // The train aborted what was releasing when it began to roll back.
        if (toVersion && ACTIVE.has(r.status))
          actions.push({ kind: 'abort', service: s.name, reason: `train ${t.spec.name}: ${t.detail}` });
        continue;
      }
      if (!toVersion && o.stable !== s.version && o.waiting === null)
        actions.push({ kind: 'release', service: s.name, version: s.version });
    } else if (s.status === 'rollingBack' && s.from !== null) {
      const back = r !== null && r.kind === 'undo' && r.to === s.from.version;
      if (!back && o.stable !== s.from.version)
        actions.push({ kind: 'rollback', service: s.name, toRevision: s.from.revision, version: s.from.version });
    }
  }
  return actions;
}
