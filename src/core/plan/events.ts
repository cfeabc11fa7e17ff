import type { Approval, GateResult, Override, PlanRecord, PlanStatus, Postmortem } from './types.ts';

/**
 * Governance events, recorded in the log of the service's own name (its environments run as
 * services `<name>--<environment>`, each with its own log). Part of core/events.ts's EventBody.
 */
export type GovernanceEvent =
  /** A spec with environments was applied: the document as written, to build each environment's spec from. */
  | { type: 'environments.applied'; document: unknown; baseDir: string; file: string | null; environments: string[] }
  /** Someone asked for a version to enter an environment: the plan its gates are checked against. */
  | { type: 'plan.requested'; plan: PlanRecord }
  /** One gate's result changed, with its evidence. */
  | { type: 'gate.evaluated'; planId: string; result: GateResult }
  | {
      type: 'plan.decided';
      planId: string;
      status: PlanStatus;
      detail: string;
      release: { service: string; id: string } | null;
    }
  | { type: 'approval.given'; approval: Approval }
  | { type: 'gate.overridden'; override: Override }
  | { type: 'postmortem.opened'; postmortem: Postmortem };

export const GOVERNANCE_EVENT_TYPES = [
  'environments.applied',
  'plan.requested',
  'gate.evaluated',
  'plan.decided',
  'approval.given',
  'gate.overridden',
  'postmortem.opened',
] as const satisfies readonly GovernanceEvent['type'][];

/** A sentence per governance event, for notifications. */
export function describeGovernanceEvent(e: GovernanceEvent, actor: string): string {
  switch (e.type) {
    case 'environments.applied':
      return `environments ${e.environments.join(' → ')} applied by ${actor}`;
    case 'plan.requested':
      return `${actor} asked to release ${e.plan.version} to ${e.plan.environment} (risk ${e.plan.risk.level})`;
    case 'gate.evaluated':
      return `gate ${e.result.gate} ${e.result.outcome}: ${e.result.detail}`;
    case 'plan.decided':
      return `plan ${e.planId}: ${e.status} — ${e.detail}`;
    case 'approval.given':
      return `${e.approval.by} approved ${e.approval.version} (plan ${e.approval.planId})${e.approval.comment ? `: ${e.approval.comment}` : ''}`;
    case 'gate.overridden':
      return `${e.override.by} overrode gate ${e.override.gate} of plan ${e.override.planId}: ${e.override.reason}`;
    case 'postmortem.opened':
      return `post-mortem ${e.postmortem.id} opened for the override of ${e.postmortem.gate} (${e.postmortem.environment} ${e.postmortem.version})`;
  }
}
