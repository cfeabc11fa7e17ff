import type { RehearsalFacts, RehearsalPolicy } from '../drills/rehearsal-types.ts';

/**
 * The governance of a release as plain data: the plan to move a version into an environment, the
 * gates it must pass, approvals, overrides and the post-mortems overrides open. Times are epoch ms.
 */

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export interface Risk {
  level: RiskLevel;
  /** Declared in the spec, or derived from which labels. */
  reason: string;
}

/** The gates a plan passes before its release starts in the environment. */
export const GATES = ['contract', 'previous-environment', 'soak', 'approvals', 'window', 'rehearsal'] as const;
export type GateName = (typeof GATES)[number];

/**
 * passed; failed (needs a change or an override); waiting (will pass by itself or with people:
 * approvals, a window opening); overridden (failed or waiting, then overridden by an approver).
 */
export type GateOutcome = 'passed' | 'failed' | 'waiting' | 'overridden';

export interface GateResult {
  gate: GateName;
  outcome: GateOutcome;
  /** A sentence for people: what was checked and what came out. */
  detail: string;
  /** The facts the outcome rests on (release ids, times, approvers, window reason). */
  evidence: Record<string, unknown>;
  /** When a waiting gate may pass by itself (soak done, window opens); null when unknown. */
  until: number | null;
}

/** What a plan's gates ask of an environment (from its spec, raised by the release's risk). */
export interface EnvironmentPolicy {
  name: string;
  /** Position in the service's ordered environments (0: the first, released by apply). */
  index: number;
  previous: string | null;
  minSoakMs: number;
  /** `owners`: when the service names owners, only they may approve (still with the role). */
  approvals: { required: number; role: string; owners?: string[] };
  /** A rollback rehearsal in the previous environment first (docs/drills.md). */
  rehearsal?: RehearsalPolicy;
}

/**
 * Planned: gates pending; Refused: a gate failed (an override or a new request can reopen it);
 * Started: the release runs in the environment; Superseded: another version was planned there.
 */
export type PlanStatus = 'Planned' | 'Refused' | 'Started' | 'Superseded';

export interface PlanRecord {
  id: string;
  service: string;
  environment: string;
  version: string;
  /** Hash of the environment's effective spec the plan was made for; approvals are bound to it. */
  specHash: string;
  risk: Risk;
  policy: EnvironmentPolicy;
  requestedBy: string;
  requestedAt: number;
}

export interface Approval {
  planId: string;
  by: string;
  role: string;
  at: number;
  version: string;
  specHash: string;
  comment: string | null;
}

export interface Override {
  planId: string;
  gate: GateName;
  by: string;
  at: number;
  reason: string;
  postmortemId: string;
}

/** Opened by every override, linked to the plan and the release it let through. */
export interface Postmortem {
  id: string;
  service: string;
  environment: string;
  version: string;
  planId: string;
  gate: GateName;
  overriddenBy: string;
  reason: string;
  openedAt: number;
  /** The release the override let start (null until it starts). */
  release: { service: string; id: string } | null;
}

/** What a plan's gate evaluation sees: facts gathered by the engine, the time passed in. */
export interface PlanFacts {
  /** The environment's effective rollback contract has rules. */
  contractRules: number;
  /** The previous environment's release of this version (null: none, or no previous environment). */
  previousRelease: PreviousRelease | null;
  approvals: Approval[];
  overrides: Override[];
  /** The release window for the environment's service now (null: no policy). */
  window: { open: boolean; reason: string; until: number | null } | null;
  /** The version's rollback rehearsal for the environment (environments with rehearsal.required). */
  rehearsal?: RehearsalFacts;
}

export interface PreviousRelease {
  service: string;
  id: string;
  status: string;
  /** When it succeeded (null unless Succeeded). */
  endedAt: number | null;
  /** Smoke checks and verify window it went through, as evidence. */
  smoke: { ok: boolean | null; detail: string | null } | null;
  verifyMs: number;
  verdicts: { rule: string; outcome: string }[];
  /** The previous environment's stable version now. */
  stableVersion: string | null;
}
