import { rehearsalGate } from '../drills/rehearsal.ts';
import { validApprovals } from './approvals.ts';
import type { GateName, GateResult, PlanFacts, PlanRecord } from './types.ts';

const min = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`);
const iso = (t: number) => new Date(t).toISOString();

function contract(facts: PlanFacts): Omit<GateResult, 'gate'> {
  return facts.contractRules > 0
    ? {
        outcome: 'passed',
        detail: `rollback contract with ${facts.contractRules} rule(s)`,
        evidence: { rules: facts.contractRules },
        until: null,
      }
    : {
        outcome: 'failed',
        detail: 'the effective rollback contract has no rules',
        evidence: { rules: 0 },
        until: null,
      };
}

function previousEnvironment(plan: PlanRecord, facts: PlanFacts): Omit<GateResult, 'gate'> {
  const prev = plan.policy.previous;
  if (prev === null)
    return { outcome: 'passed', detail: 'first environment: nothing before it', evidence: {}, until: null };
  const r = facts.previousRelease;
  if (r === null)
    return {
      outcome: 'failed',
      detail: `${plan.version} was never released to ${prev}: release it there first`,
      evidence: { environment: prev },
      until: null,
    };
  const evidence = {
    environment: prev,
    release: r.id,
    status: r.status,
    endedAt: r.endedAt === null ? null : iso(r.endedAt),
    smoke: r.smoke,
    verifyMs: r.verifyMs,
    verdicts: r.verdicts,
    stableVersion: r.stableVersion,
  };
  if (r.status !== 'Succeeded')
    return {
      outcome: 'failed',
      detail: `release ${r.id} of ${plan.version} in ${prev} is ${r.status}, not Succeeded`,
      evidence,
      until: null,
    };
  if (r.smoke !== null && r.smoke.ok !== true)
    return {
      outcome: 'failed',
      detail: `the smoke check of ${r.id} in ${prev} did not pass: ${r.smoke.detail ?? 'no result'}`,
      evidence,
      until: null,
    };
  const checks = [
    r.smoke ? 'smoke passed' : null,
    r.verifyMs > 0 ? `verified ${min(r.verifyMs)}` : null,
    `${r.verdicts.length} rule(s) last ${[...new Set(r.verdicts.map((v) => v.outcome))].join('/') || 'n/a'}`,
  ].filter(Boolean);
  return {
    outcome: 'passed',
    detail: `${plan.version} completed in ${prev} (${r.id}: ${checks.join(', ')})`,
    evidence,
    until: null,
  };
}

function soak(plan: PlanRecord, facts: PlanFacts, now: number): Omit<GateResult, 'gate'> {
  const need = plan.policy.minSoakMs;
  if (plan.policy.previous === null || need === 0)
    return { outcome: 'passed', detail: 'no minimum soak', evidence: { minSoakMs: need }, until: null };
  const r = facts.previousRelease;
  if (r?.status !== 'Succeeded' || r.endedAt === null) {
    return {
      outcome: 'failed',
      detail: `cannot soak: ${plan.version} has not completed in ${plan.policy.previous}`,
      evidence: { minSoakMs: need },
      until: null,
    };
  }
  const soaked = now - r.endedAt;
  const evidence = { minSoakMs: need, since: iso(r.endedAt) };
  // Stable wording once passed: a gate result is recorded again only when it changes.
  if (soaked >= need)
    return {
      outcome: 'passed',
      detail: `soaked at least ${min(need)} in ${plan.policy.previous} (completed ${iso(r.endedAt)})`,
      evidence,
      until: null,
    };
  const ready = r.endedAt + need;
  return {
    outcome: 'failed',
    detail: `soaked ${min(soaked)} of ${min(need)} in ${plan.policy.previous}; ready at ${iso(ready)}`,
    evidence: { ...evidence, soakedMs: soaked },
    until: ready,
  };
}

function approvals(plan: PlanRecord, facts: PlanFacts): Omit<GateResult, 'gate'> {
  const { required, role } = plan.policy.approvals;
  if (required === 0)
    return { outcome: 'passed', detail: 'no approval required', evidence: { required: 0 }, until: null };
  const { valid, expired } = validApprovals(plan, facts.approvals);
  const evidence = {
    required,
    role,
    approvedBy: valid.map((a) => a.by),
    expired: expired.map((a) => ({ by: a.by, version: a.version })),
  };
  if (valid.length >= required)
    return {
      outcome: 'passed',
      detail: `approved by ${valid.map((a) => a.by).join(', ')} (${required} required)`,
      evidence,
      until: null,
    };
  return {
    outcome: 'waiting',
    detail: `${valid.length} of ${required} approval(s) from role ${role} (not ${plan.requestedBy}, the author)`,
    evidence,
    until: null,
  };
}

function window(facts: PlanFacts): Omit<GateResult, 'gate'> {
  const w = facts.window;
  if (w === null) return { outcome: 'passed', detail: 'no release policy', evidence: {}, until: null };
  const evidence = { reason: w.reason, until: w.until === null ? null : iso(w.until) };
  if (w.open) return { outcome: 'passed', detail: `window open: ${w.reason}`, evidence, until: null };
  return {
    outcome: 'waiting',
    detail: `window closed: ${w.reason}${w.until === null ? '' : `; opens at ${iso(w.until)}`}`,
    evidence,
    until: w.until,
  };
}

/**
 * Every gate of a plan at `now`, in order. A gate that did not pass but was overridden by an
 * approver counts as `overridden` (with the override as evidence). Pure.
 */
export function evaluateGates(plan: PlanRecord, facts: PlanFacts, now: number): GateResult[] {
  const results: Record<GateName, Omit<GateResult, 'gate'>> = {
    contract: contract(facts),
    'previous-environment': previousEnvironment(plan, facts),
    soak: soak(plan, facts, now),
    approvals: approvals(plan, facts),
    window: window(facts),
    rehearsal: rehearsalGate(plan, facts.rehearsal),
  };
  return (Object.entries(results) as [GateName, Omit<GateResult, 'gate'>][]).map(([gate, r]) => {
    const o = facts.overrides.find((x) => x.planId === plan.id && x.gate === gate);
    if (r.outcome === 'passed' || o === undefined) return { gate, ...r };
    return {
      gate,
      outcome: 'overridden',
      detail: `${r.detail} — overridden by ${o.by}: ${o.reason}`,
      evidence: { ...r.evidence, override: { by: o.by, at: iso(o.at), reason: o.reason, postmortem: o.postmortemId } },
      until: null,
    };
  });
}

/** ready: every gate passed or was overridden; waiting: only people or time are missing; refused: a gate failed. */
export function planOutcome(gates: GateResult[]): 'ready' | 'waiting' | 'refused' {
  if (gates.some((g) => g.outcome === 'failed')) return 'refused';
  if (gates.some((g) => g.outcome === 'waiting')) return 'waiting';
  return 'ready';
}

/** One line naming the gates that hold a plan, for errors and the CLI. */
export function blockingSummary(gates: GateResult[]): string {
  return gates
    .filter((g) => g.outcome === 'failed' || g.outcome === 'waiting')
    .map((g) => `${g.gate} ${g.outcome}: ${g.detail}`)
    .join('; ');
}
