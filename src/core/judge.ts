import type { Accumulated, Counts } from './accumulate.ts';
import type { LevelCounts } from './level.ts';
import type { RulePoints } from './rules/mann-whitney-rule.ts';
import { judgeBurnRate } from './rules/burn-rate.ts';
import { judgeMetric } from './rules/metric.ts';
import { judgeQuery } from './rules/query.ts';
import { judgeSignal } from './rules/signal.ts';
import type { Measurement, QueryResult, RollbackContract, Rule, Verdict } from './types.ts';

export { describeBound, describeCondition, formatFigure, metricValue, thresholdOf } from './figures.ts';

/** What the judge is given for one evaluation, gathered by the engine for the contract's rules. */
export interface Observation {
  /** Request figures of both revisions over the contract's window. */
  canary: Measurement;
  baseline: Measurement;
  canaryCrashes: number;
  baselineCrashes: number;
  /** Query rules' results by rule name (baseline null for rules with a fixed threshold). */
  queries?: Record<string, { canary: QueryResult; baseline: QueryResult | null }>;
  /** The canary's request figures over other windows (burn-rate rules), by window length in ms. */
  canaryWindows?: Record<number, Measurement>;
  /** External signals received since the release started, by name: their times. */
  signals?: Record<string, number[]>;
  /** Counts of both revisions since the canary started (the sequential judge); set by the core. */
  accumulated?: Accumulated;
  /** Counts at the canary's current share of traffic, and what judging them needs; set by the core. */
  level?: LevelCounts;
  /** What this evaluation added to them; set by the core. */
  increase?: { canary: Counts; baseline: Counts };
  /** Mann–Whitney rules' per-interval points, this evaluation's included; set by the core. */
  points?: Record<string, RulePoints>;
}

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
  for (const m of [obs.canary, obs.baseline, ...Object.values(obs.canaryWindows ?? {})]) if (m.kind === 'error') return m.message;
  for (const q of Object.values(obs.queries ?? {})) {
    for (const r of [q.canary, q.baseline]) if (r?.kind === 'error') return r.message;
  }
  return null;
}
