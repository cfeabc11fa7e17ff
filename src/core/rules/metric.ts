import { metricValue, thresholdOf } from '../figures.ts';
import type { Observation } from '../judge.ts';
import type { Judgment } from '../judges/judgment.ts';
import { sequentialLatency } from '../judges/sequential-latency.ts';
import { sequentialRate } from '../judges/sequential-rate.ts';
import type { Measurement, MetricRule, RollbackContract, Verdict, WindowStats } from '../types.ts';
import { judgeMannWhitney } from './mann-whitney-rule.ts';
import { compare, inconclusive, verdictBase } from './verdict.ts';

const QUANTILE: Partial<Record<MetricRule['metric'], number>> = { latency_p50: 0.5, latency_p90: 0.9, latency_p95: 0.95, latency_p99: 0.99 };

interface SequentialFigures {
  alpha: number;
  eValue: number;
  eThreshold: number;
}

/**
 * The sequential judge on counts since the canary started: anytime-valid, so looking at every
 * interval does not raise the false-rollback rate above α (see judges/sequential-rate.ts).
 */
function judgeSequential(rule: MetricRule, contract: RollbackContract, obs: Observation, at: number): Verdict | null {
  const acc = obs.accumulated;
  if (acc === undefined) return null;
  // The counts so far are not today's figures: a provider failing now gives no verdict.
  const problem = obs.canary.kind === 'error' ? unusable(obs.canary, 'canary') : obs.baseline.kind === 'error' ? unusable(obs.baseline, 'baseline') : null;
  if (problem !== null) return inconclusive(rule, at, problem, acc.canary.sum.requests, acc.baseline.sum.requests);
  const minSamples = rule.minSamples ?? contract.minSamples;
  const options = { condition: rule.failIf, minSamples };
  const q = QUANTILE[rule.metric];
  let j: Judgment<SequentialFigures>;
  let canary: number | null;
  let baseline: number | null;
  let threshold: number | null;
  if (rule.metric === 'error_rate') {
    const r = sequentialRate({ canary: acc.canary.sum, baseline: acc.baseline.sum }, options);
    [j, canary, baseline, threshold] = [r, r.figures.canaryRate, r.figures.baselineRate, r.figures.limit];
  } else if (q !== undefined) {
    const r = sequentialLatency({ canary: acc.canary.sum, baseline: acc.baseline.sum }, { ...options, quantile: q });
    [j, canary, baseline, threshold] = [r, r.figures.canaryQuantileMs, r.figures.baselineQuantileMs, r.figures.limitMs];
  } else {
    return null;
  }
  const { alpha, eValue, eThreshold } = j.figures;
  return {
    ...verdictBase(rule, at),
    outcome: j.outcome,
    canary,
    baseline,
    threshold,
    canarySamples: acc.canary.sum.requests,
    baselineSamples: acc.baseline.sum.requests,
    reason: j.reason,
    judge: 'sequential',
    evidence: { eValue: Number.isFinite(eValue) ? eValue : Number.MAX_VALUE, eThreshold, alpha },
  };
}

export function unusable(m: Measurement, who: string): string | null {
  if (m.kind === 'error') return `${who} metrics unavailable: ${m.message}`;
  if (m.kind === 'noData') return `no ${who} data in the window`;
  return null;
}

/** A request metric: the sequential judge when the rule asks for it and counters exist, else the threshold judge on the window. */
export function judgeMetric(rule: MetricRule, contract: RollbackContract, obs: Observation, at: number): Verdict {
  if (rule.judge === 'mannWhitney') return judgeMannWhitney(rule, obs.points?.[rule.name], at);
  if (rule.judge === 'sequential') {
    const v = judgeSequential(rule, contract, obs, at);
    if (v !== null) return v;
    const t = judgeThreshold(rule, contract, obs, at);
    return { ...t, reason: `${t.reason} [threshold judge: the metrics provider keeps no counters for the sequential judge]` };
  }
  return judgeThreshold(rule, contract, obs, at);
}

function judgeThreshold(rule: MetricRule, contract: RollbackContract, obs: Observation, at: number): Verdict {
  const minSamples = rule.minSamples ?? contract.minSamples;
  const vsBaseline = rule.failIf.reference === 'baseline';

  if (rule.metric === 'instance_crashes') {
    const baseline = obs.baselineCrashes;
    const threshold = thresholdOf(rule.failIf, baseline);
    if (threshold === null) return inconclusive(rule, at, 'no baseline');
    return compare(rule, rule.metric, { canary: obs.canaryCrashes, baseline: vsBaseline ? baseline : null, threshold, canarySamples: 0, baselineSamples: 0 }, at);
  }

  // Sample counts are reported whatever the verdict, so a person sees how far the data is.
  const baselineSamples = obs.baseline.kind === 'stats' ? obs.baseline.stats.requests : 0;
  const canaryProblem = unusable(obs.canary, 'canary');
  if (canaryProblem !== null) return inconclusive(rule, at, canaryProblem, 0, baselineSamples);
  const canary = (obs.canary as { kind: 'stats'; stats: WindowStats }).stats;
  if (canary.requests < minSamples) {
    return inconclusive(rule, at, `${canary.requests} of ${minSamples} canary requests needed in the window`, canary.requests, baselineSamples);
  }
  let baselineValue: number | null = null;
  if (vsBaseline) {
    const baselineProblem = unusable(obs.baseline, 'baseline');
    if (baselineProblem !== null) return inconclusive(rule, at, baselineProblem, canary.requests);
    const baseline = (obs.baseline as { kind: 'stats'; stats: WindowStats }).stats;
    if (baseline.requests < minSamples) {
      return inconclusive(rule, at, `${baseline.requests} of ${minSamples} baseline requests needed in the window`, canary.requests, baselineSamples);
    }
    baselineValue = metricValue(rule.metric, baseline);
  }
  const canaryValue = metricValue(rule.metric, canary);
  const threshold = thresholdOf(rule.failIf, baselineValue);
  if (canaryValue === null || threshold === null) return inconclusive(rule, at, 'the metric could not be computed', canary.requests, baselineSamples);
  return compare(rule, rule.metric, { canary: canaryValue, baseline: baselineValue, threshold, canarySamples: canary.requests, baselineSamples }, at);
}
