import type { Approval, GateName, GateResult, PlanRecord } from './types.ts';

/**
 * The approvals that count for a plan: given for this plan, this version and this effective
 * spec, by someone other than the author. The others are `expired` (the release changed since).
 */
export function validApprovals(plan: PlanRecord, approvals: Approval[]): { valid: Approval[]; expired: Approval[] } {
  const mine = approvals.filter((a) => a.planId === plan.id);
  const counts = (a: Approval) =>
    a.version === plan.version && a.specHash === plan.specHash && a.by !== plan.requestedBy;
  return { valid: mine.filter(counts), expired: mine.filter((a) => !counts(a)) };
}

/**
 * The rules every approval obeys, a plan's or a train's: never by the one who asked for what is
 * approved (four-eyes), only from the role asked for or above, once per person. `asked`: what
 * `author` asked for ("this release of 2.0.0 to production"); `scope`: what the role is asked for
 * ("production"); `approvedAlready`: what `by` approved already, or null. Null when `by` may approve.
 */
export function approverRefusal(a: {
  by: string;
  author: string;
  asked: string;
  roleAllowed: boolean;
  role: string;
  scope: string;
  approvedAlready: string | null;
}): string | null {
  if (a.by === a.author) return `${a.by} requested ${a.asked} and cannot approve it (four-eyes): another approver must`;
  if (!a.roleAllowed) return `approvals for ${a.scope} need role ${a.role} or above`;
  if (a.approvedAlready !== null) return `${a.by} already approved ${a.approvedAlready}`;
  return null;
}

/**
 * Why `by` may not approve the plan, or null when they may. `roleAllowed`: whether their role
 * covers the environment's approval role (the caller knows the roles). Four-eyes: never the author.
 */
export function approvalRefusal(
  plan: PlanRecord,
  by: string,
  roleAllowed: boolean,
  approvals: Approval[],
): string | null {
  const rules = (approvedAlready: string | null) =>
    approverRefusal({
      by,
      author: plan.requestedBy,
      asked: `this release of ${plan.version} to ${plan.environment}`,
      roleAllowed,
      role: plan.policy.approvals.role,
      scope: plan.environment,
      approvedAlready,
    });
  const first = rules(null);
  if (first !== null) return first;
  const owners = plan.policy.approvals.owners ?? [];
  if (owners.length > 0 && !owners.includes(by))
    return `approvals come from the service's owners (${owners.join(', ')}); ${by} is not one of them`;
  if (plan.policy.approvals.required === 0) return `${plan.environment} needs no approval`;
  const again = validApprovals(plan, approvals).valid.some((a) => a.by === by);
  return again ? rules(`${plan.version} for ${plan.environment}`) : null;
}

/** Gates that no one may override: a release without a contract is never let through. */
export const NOT_OVERRIDABLE: readonly GateName[] = ['contract'];

/** Why `by` may not override `gate` of the plan, or null. Only an approver who is not the author, only a gate that holds the plan. */
export function overrideRefusal(
  plan: PlanRecord,
  gate: GateName,
  by: string,
  roleAllowed: boolean,
  gates: GateResult[],
): string | null {
  if (!roleAllowed) return 'overriding a gate needs role approver or above';
  if (by === plan.requestedBy)
    return `${by} requested this release and cannot override its gates (four-eyes): another approver must`;
  if (NOT_OVERRIDABLE.includes(gate)) return `gate ${gate} cannot be overridden: fix the spec`;
  const g = gates.find((x) => x.gate === gate);
  if (g === undefined || g.outcome === 'passed')
    return `gate ${gate} of ${plan.environment} ${plan.version} has passed; nothing to override`;
  if (g.outcome === 'overridden') return `gate ${gate} is already overridden`;
  return null;
}
