import { mean, quantile } from './histogram.ts';
import type { Condition, Measurement, MetricName, RollbackContract, Rule, Verdict, WindowStats } from './types.ts';

/** What the judge is given for one evaluation: measurements of both revisions and their crash counts. */
export interface Observation {
  canary: Measurement;
  baseline: Measurement;
  canaryCrashes: number;
  baselineCrashes: number;
}

const QUANTILES: Partial<Record<MetricName, number>> = {
  latency_p50: 0.5,
  latency_p90: 0.9,
  latency_p95: 0.95,
  latency_p99: 0.99,
};

/** The metric's value from window figures, or null when it cannot be computed. */
export function metricValue(metric: MetricName, stats: WindowStats): number | null {
  if (stats.requests <= 0) return null;
  const q = QUANTILES[metric];
  if (q !== undefined) return quantile(stats.latency, q);
  switch (metric) {
    case 'error_rate':
      return stats.errors / stats.requests;
    case 'latency_mean':
      return mean(stats.latency);
    case 'request_rate':
      return stats.requests / (stats.windowMs / 1000);
    default:
      return null;
  }
}

/** A metric's value as people read it: 1.25%, 512.0ms, 40.0/s. */
export function formatFigure(metric: MetricName, value: number): string {
  if (metric === 'error_rate') return `${(value * 100).toFixed(2)}%`;
  if (metric.startsWith('latency')) return `${value.toFixed(1)}ms`;
  if (metric === 'request_rate') return `${value.toFixed(1)}/s`;
  return String(value);
}

/** The value the canary is compared with. */
export function thresholdOf(failIf: Condition, baseline: number | null): number | null {
  if (failIf.reference !== 'baseline') return failIf.reference;
  if (baseline === null) return null;
  const times = failIf.times ?? 1;
  const by = failIf.by ?? 0;
  return failIf.op === 'above' ? baseline * times + by : baseline * times - by;
}

function describeCondition(rule: Rule): string {
  const c = rule.failIf;
  if (c.reference !== 'baseline') return `${c.op} ${formatFigure(rule.metric, c.reference)}`;
  const parts = [c.times !== undefined ? `${c.times}× baseline` : 'baseline'];
  if (c.by !== undefined) parts.push(`${c.op === 'above' ? '+' : '−'} ${formatFigure(rule.metric, c.by)}`);
  return `${c.op} ${parts.join(' ')}`;
}

function unusable(m: Measurement, who: string): string | null {
  if (m.kind === 'error') return `${who} metrics unavailable: ${m.message}`;
  if (m.kind === 'noData') return `no ${who} data in the window`;
  return null;
}

/**
 * The threshold judge: one rule, one evaluation. Returns Pass, Fail or Inconclusive with the
 * figures that decided it. Too few samples is Inconclusive, never Pass.
 */
export function judgeRule(rule: Rule, contract: RollbackContract, obs: Observation, at: number): Verdict {
  const minSamples = rule.minSamples ?? contract.minSamples;
  const vsBaseline = rule.failIf.reference === 'baseline';
  const base = { rule: rule.name, metric: rule.metric, at };
  const inconclusive = (reason: string, canarySamples = 0, baselineSamples = 0): Verdict => ({
    ...base, outcome: 'Inconclusive', canary: null, baseline: null, threshold: null, canarySamples, baselineSamples, reason,
  });

  if (rule.metric === 'instance_crashes') {
    const baseline = obs.baselineCrashes;
    const threshold = thresholdOf(rule.failIf, baseline);
    if (threshold === null) return inconclusive('no baseline');
    return decide(rule, obs.canaryCrashes, vsBaseline ? baseline : null, threshold, 0, 0, base);
  }

  // Sample counts are reported whatever the verdict, so a person sees how far the data is.
  const baselineSamples = obs.baseline.kind === 'stats' ? obs.baseline.stats.requests : 0;
  const canaryProblem = unusable(obs.canary, 'canary');
  if (canaryProblem !== null) return inconclusive(canaryProblem, 0, baselineSamples);
  const canary = (obs.canary as { kind: 'stats'; stats: WindowStats }).stats;
  if (canary.requests < minSamples) {
    return inconclusive(`${canary.requests} of ${minSamples} canary requests needed in the window`, canary.requests, baselineSamples);
  }
  let baselineValue: number | null = null;
  if (vsBaseline) {
    const baselineProblem = unusable(obs.baseline, 'baseline');
    if (baselineProblem !== null) return inconclusive(baselineProblem, canary.requests);
    const baseline = (obs.baseline as { kind: 'stats'; stats: WindowStats }).stats;
    if (baseline.requests < minSamples) {
      return inconclusive(`${baseline.requests} of ${minSamples} baseline requests needed in the window`, canary.requests, baselineSamples);
    }
    baselineValue = metricValue(rule.metric, baseline);
  }
  const canaryValue = metricValue(rule.metric, canary);
  const threshold = thresholdOf(rule.failIf, baselineValue);
  if (canaryValue === null || threshold === null) return inconclusive('the metric could not be computed', canary.requests, baselineSamples);
  return decide(rule, canaryValue, baselineValue, threshold, canary.requests, baselineSamples, base);
}

function decide(
  rule: Rule,
  canary: number,
  baseline: number | null,
  threshold: number,
  canarySamples: number,
  baselineSamples: number,
  base: { rule: string; metric: MetricName; at: number },
): Verdict {
  const failed = rule.failIf.op === 'above' ? canary > threshold : canary < threshold;
  const figures = `canary ${formatFigure(rule.metric, canary)}${baseline !== null ? `, baseline ${formatFigure(rule.metric, baseline)}` : ''}`;
  const reason = failed
    ? `${rule.metric} ${figures}: fails "${describeCondition(rule)}" (threshold ${formatFigure(rule.metric, threshold)})`
    : `${rule.metric} ${figures}: within "${describeCondition(rule)}" (threshold ${formatFigure(rule.metric, threshold)})`;
  return { ...base, outcome: failed ? 'Fail' : 'Pass', canary, baseline, threshold, canarySamples, baselineSamples, reason };
}
