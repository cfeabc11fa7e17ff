import type { PlanState } from '../core/plan/governance-state.ts';
import type { EnvironmentPolicy, GateResult, PlanStatus, Risk } from '../core/plan/types.ts';
import type { ReleaseState } from '../core/release/state.ts';

/** A promotion gate's latest result (docs/governance.md). */
export type GateView = GateResult;

/** A plan to move a version into an environment, with its gates: what `sluice release` prints. */
export interface PlanView {
  id: string;
  environment: string;
  version: string;
  status: PlanStatus;
  detail: string;
  risk: Risk;
  requestedBy: string;
  requestedAt: string;
  release: { service: string; id: string } | null;
  policy: EnvironmentPolicy;
  gates: GateView[];
}

/** What `POST /api/services/:name/release` (and approve, override) answers. */
export interface PlanAnswer {
  outcome: 'started' | 'waiting' | 'refused';
  plan: PlanView;
  postmortem?: string;
}

/** Release phase of an environment (docs/governance.md): Plan → Stage → Release → Verify → Done, or RolledBack. */
export type GovernancePhase = 'Plan' | 'Stage' | 'Release' | 'Verify' | 'Done' | 'RolledBack';

/** Where each version is, per environment: what `sluice release SERVICE` prints. */
export interface EnvironmentsView {
  service: string;
  risk: Risk;
  version: string;
  environments: {
    environment: string;
    service: string;
    phase: GovernancePhase | null;
    servicePhase: string | null;
    stableVersion: string | null;
    canaryVersion: string | null;
    release: { id: string; status: ReleaseState['status']; toVersion: string; startedBy: string } | null;
    plan: PlanView | null;
  }[];
}

export const planView = (p: PlanState): PlanView => ({
  id: p.record.id,
  environment: p.record.environment,
  version: p.record.version,
  status: p.status,
  detail: p.detail,
  risk: p.record.risk,
  requestedBy: p.record.requestedBy,
  requestedAt: new Date(p.record.requestedAt).toISOString(),
  release: p.release,
  policy: p.record.policy,
  gates: Object.values(p.gates),
});
