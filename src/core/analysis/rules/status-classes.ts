/**
 * Which answers a rate rule counts: `5xx`, `4xx` … (a class), `429` … (one status) and `connect`
 * (no answer at all). error_rate counts 5xx and no answer unless a rule says otherwise;
 * success_rate counts 4xx, 5xx and no answer as unsuccessful.
 */
import type { Counts } from '../accumulate.ts';
import { DEFAULT_ERRORS, type MetricRule, type StatusClass, type StatusCounts } from '../../types.ts';

export function classesOf(rule: Pick<MetricRule, 'metric' | 'errors'>): readonly StatusClass[] {
  return rule.errors ?? DEFAULT_ERRORS[rule.metric] ?? DEFAULT_ERRORS.error_rate!;
}

function matches(status: string, cls: StatusClass): boolean {
  if (cls === status) return true;
  return cls.length === 3 && cls.endsWith('xx') && status.length === 3 && status[0] === cls[0];
}

/** Answers whose status is in `classes`; null when they cannot be told apart (the provider reports only 5xx + no answer). */
export function countMatching(
  counts: Pick<Counts, 'errors' | 'statuses'>,
  classes: readonly StatusClass[],
): number | null {
  if (counts.statuses === undefined) return isDefaultErrors(classes) ? counts.errors : null;
  return sumMatching(counts.statuses, classes);
}

export function sumMatching(statuses: StatusCounts, classes: readonly StatusClass[]): number {
  let n = 0;
  for (const [status, count] of Object.entries(statuses)) if (classes.some((c) => matches(status, c))) n += count;
  return n;
}

const isDefaultErrors = (classes: readonly StatusClass[]) =>
  classes.length === 2 && classes.includes('5xx') && classes.includes('connect');

/**
 * The events a rate rule judges: errors for error_rate, successes for success_rate; null when the
 * provider's figures cannot say (a rule naming statuses behind a provider that only counts errors).
 */
export function rateEvents(
  rule: Pick<MetricRule, 'metric' | 'errors'>,
  counts: Pick<Counts, 'requests' | 'errors' | 'statuses'>,
): number | null {
  const bad = countMatching(counts, classesOf(rule));
  if (bad === null) return null;
  return rule.metric === 'success_rate' ? counts.requests - bad : bad;
}
