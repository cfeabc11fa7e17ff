/**
 * The fields of a Service that decide who must agree to a release (docs/security.md): its
 * environments (their order, approvals, minSoak, verify, highRisk), its risk (declared or derived
 * from labels) and its owners. Changing any of them needs an approver; this lists what changed.
 */
import { riskOf } from '../core/plan/risk.ts';
import type { ServiceSpec } from '../spec/index.ts';

export interface GovernanceChange {
  /** The field, as a person finds it in the spec: `spec.environments[production].approvals`. */
  field: string;
  was: unknown;
  now: unknown;
}

const GATED = ['minSoak', 'verify', 'approvals', 'highRisk', 'rehearsal'] as const;

/** What differs in the governance fields between the stored spec (null: none yet) and the new one. */
export function governanceChanges(before: ServiceSpec | null, after: ServiceSpec): GovernanceChange[] {
  if (before === null) return [];
  const changes: GovernanceChange[] = [];
  const differ = (a: unknown, b: unknown) => JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
  const push = (field: string, was: unknown, now: unknown) => {
    if (differ(was, now)) changes.push({ field, was: was ?? null, now: now ?? null });
  };
  const names = (s: ServiceSpec) => (s.spec.environments ?? []).map((e) => e.name);
  push('spec.environments (names and order)', names(before), names(after));
  for (const env of after.spec.environments ?? []) {
    const old = before.spec.environments?.find((e) => e.name === env.name);
    if (old === undefined) continue;
    for (const key of GATED) push(`spec.environments[${env.name}].${key}`, old[key], env[key]);
  }
  const risk = (s: ServiceSpec) => riskOf(s.spec.risk, s.metadata.labels).level;
  push(
    before.spec.risk === undefined && after.spec.risk === undefined
      ? 'risk (derived from metadata.labels)'
      : 'spec.risk',
    risk(before),
    risk(after),
  );
  push('spec.owners', [...(before.spec.owners ?? [])].sort(), [...(after.spec.owners ?? [])].sort());
  return changes;
}

/** One line per change, for a refusal. */
export function describeChanges(changes: GovernanceChange[]): string {
  const show = (v: unknown) => (v === null ? 'none' : JSON.stringify(v));
  return changes.map((c) => `${c.field} (was ${show(c.was)}, now ${show(c.now)})`).join('; ');
}
