import type { Observation } from './observation.ts';
import { judgeBurnRate } from './rules/burn-rate.ts';
import { judgeMetric } from './rules/metric.ts';
import { judgeQuery } from './rules/query.ts';
import { judgeSignal } from './rules/signal.ts';
import type { RollbackContract, Rule, Verdict } from '../types.ts';

export type { Observation } from './observation.ts';
export { describeBound, describeCondition, formatFigure, metricValue, thresholdOf } from './figures.ts';

/**
 * One rule, one evaluation: Pass, Fail or Inconclusive with the figures that decided it and a
 * reason a person can read. Too little data is Inconclusive, never Pass.
 */
export function judgeRule(rule: Rule, contract: RollbackContract, obs: Observation, at: number): Verdict {
  switch (rule.metric) {
    case 'query':
      return judgeQuery(rule, obs, at);
    case 'burn_rate':
      return judgeBurnRate(rule, contract, obs, at);
    case 'signal':
      return judgeSignal(rule, obs, at);
    default:
      return judgeMetric(rule, contract, obs, at);
  }
}

/** Whether this observation carries a provider error (for the contract's metricsErrors policy). */
export function providerError(obs: Observation): string | null {
  for (const m of [obs.canary, obs.baseline, ...Object.values(obs.canaryWindows ?? {})])
    if (m.kind === 'error') return m.message;
  for (const q of Object.values(obs.queries ?? {})) {
    for (const r of [q.canary, q.baseline]) if (r?.kind === 'error') return r.message;
  }
  return null;
}
