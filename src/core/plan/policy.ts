import type { RehearsalPolicy } from '../drills/rehearsal-types.ts';
import type { EnvironmentPolicy, Risk } from './types.ts';

/** An environment as its gates need it (the spec's normalised fields, durations in ms). */
export interface EnvironmentGates {
  name: string;
  minSoak?: number | undefined;
  approvals?: { required: number; role: string } | undefined;
  highRisk?: { approvals?: number | undefined; minSoak?: number | undefined } | undefined;
  rehearsal?: { required: boolean; fault: { errors: number }; maxTimeToRevert: number } | undefined;
}

/**
 * What entering `envs[index]` asks of a release of this risk. High risk raises the environment's
 * own asks: its `highRisk` values, and by default one more approval where any is required.
 */
export function policyOf(
  envs: EnvironmentGates[],
  index: number,
  risk: Risk,
  owners: readonly string[] = [],
): EnvironmentPolicy {
  const env = envs[index];
  if (env === undefined) throw new RangeError(`no environment at ${index}`);
  const high = risk.level === 'high';
  const base = env.approvals?.required ?? 0;
  const extra = high ? (env.highRisk?.approvals ?? (base > 0 ? base + 1 : 0)) : 0;
  return {
    name: env.name,
    index,
    previous: envs[index - 1]?.name ?? null,
    minSoakMs: Math.max(env.minSoak ?? 0, high ? (env.highRisk?.minSoak ?? 0) : 0),
    approvals: {
      required: Math.max(base, extra),
      role: env.approvals?.role ?? 'approver',
      ...(owners.length > 0 && { owners: [...owners] }),
    },
    ...(env.rehearsal?.required === true && {
      rehearsal: {
        errorsPercent: env.rehearsal.fault.errors,
        maxTimeToRevertMs: env.rehearsal.maxTimeToRevert,
      } satisfies RehearsalPolicy,
    }),
  };
}
