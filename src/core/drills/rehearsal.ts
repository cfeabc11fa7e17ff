/**
 * Rollback rehearsal as a gate (docs/drills.md): an environment with `rehearsal.required` lets a
 * version in only after Sluice injected the fault into that version's canary in the previous
 * environment and saw the contract revert it within `maxTimeToRevert`. Pure: the facts and the
 * time are passed in.
 */
import type { GateResult, PlanRecord } from '../plan/types.ts';
import type { RehearsalFacts, RehearsalResult } from './rehearsal-types.ts';

export type { RehearsalFacts, RehearsalPolicy, RehearsalResult } from './rehearsal-types.ts';

/** Whether the revert came in time (a revert not seen is not in time). */
export function rehearsalPassed(timeToRevertMs: number | null, maxTimeToRevertMs: number): boolean {
  return timeToRevertMs !== null && timeToRevertMs <= maxTimeToRevertMs;
}

export function rehearsalGate(plan: PlanRecord, facts: RehearsalFacts | undefined): Omit<GateResult, 'gate'> {
  const policy = plan.policy.rehearsal;
  if (policy === undefined) return { outcome: 'passed', detail: 'no rehearsal required', evidence: {}, until: null };
  const need = `${policy.maxTimeToRevertMs / 1000}s`;
  if (facts?.firstRelease === true)
    return {
      outcome: 'passed',
      detail: `first release to ${plan.environment}: nothing to roll back to yet`,
      evidence: { firstRelease: true },
      until: null,
    };
  const r = facts?.last ?? null;
  const how = `sluice gameday rehearse ${plan.service} --to ${plan.environment} --version ${plan.version}, while its canary runs in ${plan.policy.previous ?? 'the previous environment'}`;
  if (r === null)
    return {
      outcome: 'failed',
      detail: `${plan.version}'s rollback was never rehearsed for ${plan.environment}: ${how}`,
      evidence: { maxTimeToRevertMs: policy.maxTimeToRevertMs },
      until: null,
    };
  const evidence = {
    ranIn: r.ranIn,
    at: new Date(r.at).toISOString(),
    timeToDetectMs: r.timeToDetectMs,
    timeToRevertMs: r.timeToRevertMs,
    maxTimeToRevertMs: policy.maxTimeToRevertMs,
  };
  if (!r.ok || !rehearsalPassed(r.timeToRevertMs, policy.maxTimeToRevertMs)) {
    return {
      outcome: 'failed',
      detail: `the last rehearsal of ${plan.version} in ${r.ranIn} did not revert within ${need}: ${r.detail}; rehearse again: ${how}`,
      evidence,
      until: null,
    };
  }
  return {
    outcome: 'passed',
    detail: `rehearsed in ${r.ranIn}: the contract detected the fault in ${r.timeToDetectMs} ms and reverted in ${r.timeToRevertMs} ms (at most ${need})`,
    evidence,
    until: null,
  };
}

/** Of these releases into rehearsal-gated environments, how many had a passing rehearsal before they started. */
export function rehearsedShare(
  releases: readonly { service: string; environment: string; version: string; startedAt: number }[],
  rehearsals: readonly RehearsalResult[],
): { releases: number; rehearsed: number; share: number | null } {
  const rehearsed = releases.filter((r) =>
    rehearsals.some(
      (x) =>
        x.ok &&
        x.service === r.service &&
        x.environment === r.environment &&
        x.version === r.version &&
        x.at <= r.startedAt,
    ),
  ).length;
  return {
    releases: releases.length,
    rehearsed,
    share: releases.length === 0 ? null : Math.round((rehearsed / releases.length) * 1000) / 10,
  };
}
