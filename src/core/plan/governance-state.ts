import type { GovernanceEvent } from './events.ts';
import type { Approval, GateName, GateResult, Override, PlanRecord, PlanStatus, Postmortem } from './types.ts';

export interface PlanState {
  record: PlanRecord;
  status: PlanStatus;
  detail: string;
  /** The latest result of each gate. */
  gates: Partial<Record<GateName, GateResult>>;
  release: { service: string; id: string } | null;
  decidedAt: number | null;
}

/** A service's governance, folded from its governance events. */
export interface GovernanceState {
  document: { raw: unknown; baseDir: string; file: string | null; environments: string[]; at: number } | null;
  plans: PlanState[];
  approvals: Approval[];
  overrides: Override[];
  postmortems: Postmortem[];
}

export const emptyGovernance = (): GovernanceState => ({
  document: null,
  plans: [],
  approvals: [],
  overrides: [],
  postmortems: [],
});

const withPlan = (s: GovernanceState, id: string, patch: (p: PlanState) => PlanState): GovernanceState => ({
  ...s,
  plans: s.plans.map((p) => (p.record.id === id ? patch(p) : p)),
});

/** Fold one governance event (with its time). Pure. */
export function foldGovernance(s: GovernanceState, e: GovernanceEvent & { at: number }): GovernanceState {
  switch (e.type) {
    case 'environments.applied':
      return {
        ...s,
        document: { raw: e.document, baseDir: e.baseDir, file: e.file, environments: e.environments, at: e.at },
      };
    case 'plan.requested':
      return {
        ...s,
        plans: [
          ...s.plans,
          { record: e.plan, status: 'Planned', detail: 'gates pending', gates: {}, release: null, decidedAt: null },
        ],
      };
    case 'gate.evaluated':
      return withPlan(s, e.planId, (p) => ({ ...p, gates: { ...p.gates, [e.result.gate]: e.result } }));
    case 'plan.decided': {
      const s2 = withPlan(s, e.planId, (p) => ({
        ...p,
        status: e.status,
        detail: e.detail,
        release: e.release ?? p.release,
        decidedAt: e.at,
      }));
      if (e.release === null) return s2;
      // The post-mortems of this plan's overrides are linked to the release they let through.
      const release = e.release;
      return {
        ...s2,
        postmortems: s2.postmortems.map((m) => (m.planId === e.planId && m.release === null ? { ...m, release } : m)),
      };
    }
    case 'approval.given':
      return { ...s, approvals: [...s.approvals, e.approval] };
    case 'gate.overridden':
      return { ...s, overrides: [...s.overrides, e.override] };
    case 'postmortem.opened':
      return { ...s, postmortems: [...s.postmortems, e.postmortem] };
  }
}

/** The plan for an environment that is still open (Planned or Refused), newest first. */
export function openPlan(s: GovernanceState, environment: string): PlanState | null {
  const p = s.plans.findLast((x) => x.record.environment === environment);
  return p !== undefined && (p.status === 'Planned' || p.status === 'Refused') ? p : null;
}
