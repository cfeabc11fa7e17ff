/**
 * Approving a train as such (spec.approvals): the rules of every approval (core/plan/approvals.ts:
 * four-eyes, the role, once per person), applied to a run; and a person's rejection of a run.
 */
import { approverRefusal } from '../plan/approvals.ts';
import type { TrainDecision } from './step.ts';
import type { TrainState } from './types.ts';

/** Why `by` may not approve the train's run (the caller checked it waits for approvals), or null. */
export function trainApprovalRefusal(t: TrainState, by: string, roleAllowed: boolean): string | null {
  const run = `run ${t.run} of train ${t.spec.name}`;
  return approverRefusal({
    by,
    author: t.requestedBy,
    asked: run,
    roleAllowed,
    role: t.spec.approvals?.role ?? 'approver',
    scope: `train ${t.spec.name}`,
    approvedAlready: t.approvals.some((a) => a.by === by) ? run : null,
  });
}

/** Why `by` may not reject the run: only someone who could approve it (its role or above). */
export function trainRejectionRefusal(t: TrainState, roleAllowed: boolean): string | null {
  return roleAllowed
    ? null
    : `rejecting train ${t.spec.name} needs role ${t.spec.approvals?.role ?? 'approver'} or above, as approving it does`;
}

/** A person refuses the run that waits for approvals: it ends, nothing started, its services held. */
export function rejectTrain(t: TrainState, by: string, comment: string): TrainDecision {
  const waiting = t.services.filter((s) => s.status === 'waiting').map((s) => s.name);
  return {
    events: [
      ...(waiting.length > 0
        ? [{ type: 'train.held' as const, services: waiting, detail: `the run was rejected by ${by}` }]
        : []),
      { type: 'train.rejected', by, comment },
    ],
    actions: [],
  };
}
