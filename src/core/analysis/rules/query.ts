import { thresholdOf } from '../figures.ts';
import type { Observation } from '../observation.ts';
import type { QueryResult, QueryRule, Verdict } from '../../types.ts';
import { compare, inconclusive } from './verdict.ts';

function problem(r: QueryResult | null | undefined, who: string): string | null {
  if (r === null || r === undefined) return `no ${who} query result`;
  if (r.kind === 'error') return `${who} query failed: ${r.message}`;
  if (r.kind === 'noData') return `the ${who} query returned no data`;
  return null;
}

/** A query rule: the provider's value for the canary against a number or the baseline's value. */
export function judgeQuery(rule: QueryRule, obs: Observation, at: number): Verdict {
  const q = obs.queries?.[rule.name];
  const canaryProblem = problem(q?.canary, 'canary');
  if (canaryProblem !== null) return inconclusive(rule, at, canaryProblem);
  const canary = (q!.canary as { value: number }).value;
  let baseline: number | null = null;
  if (rule.failIf.reference === 'baseline') {
    const baselineProblem = problem(q!.baseline, 'baseline');
    if (baselineProblem !== null) return inconclusive(rule, at, baselineProblem);
    baseline = (q!.baseline as { value: number }).value;
  }
  const threshold = thresholdOf(rule.failIf, baseline);
  if (threshold === null) return inconclusive(rule, at, 'no baseline value');
  return compare(rule, rule.name, { canary, baseline, threshold, canarySamples: 0, baselineSamples: 0 }, at);
}
