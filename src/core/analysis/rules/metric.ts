import { metricValue, thresholdOf } from '../figures.ts';
import type { Observation } from '../observation.ts';
import type { LevelCounts } from '../level.ts';
import { sequentialLatency } from '../judges/sequential-latency.ts';
import { DEFAULT_ALPHA, sequentialRate } from '../judges/sequential-rate.ts';
import type { Measurement, MetricRule, RollbackContract, Verdict, WindowStats } from '../../types.ts';
import { judgeMannWhitney } from './mann-whitney-rule.ts';
import { rateEvents } from './status-classes.ts';
import { compare, inconclusive, verdictBase } from './verdict.ts';

const QUANTILE: Partial<Record<MetricRule['metric'], number>> = {
  latency_p50: 0.5,
  latency_p90: 0.9,
  latency_p95: 0.95,
  latency_p99: 0.99,
};
const RATES: readonly MetricRule['metric'][] = ['error_rate', 'success_rate'];

export function unusable(m: Measurement, who: string): string | null {
  if (m.kind === 'error') return `${who} metrics unavailable: ${m.message}`;
  if (m.kind === 'noData') return `no ${who} data in the window`;
  return null;
}

const noStatuses = (rule: MetricRule) =>
  `${rule.metric} counts ${rule.errors?.join(', ') ?? 'the statuses asked for'}, but the metrics provider reports only 5xx and failed connections; ` +
  'name statuses only behind a data plane that tells them apart (the built-in proxy)';

/**
 * The sequential judge on counts at the canary's current share of traffic: anytime-valid, so
 * looking at every interval does not raise the false-rollback rate above α, and a Pass needs its
 * own evidence (judges/sequential-rate.ts, judges/sequential-latency.ts). Each level of the plan
 * spends α / levels, so a whole release fails a healthy canary with probability ≤ α per rule.
 */
function judgeSequential(rule: MetricRule, contract: RollbackContract, obs: Observation, at: number): Verdict | null {
  const level = obs.level;
  if (level === undefined) return null;
  // The counts so far are not today's figures: a provider failing now gives no verdict.
  const problem =
    obs.canary.kind === 'error'
      ? unusable(obs.canary, 'canary')
      : obs.baseline.kind === 'error'
        ? unusable(obs.baseline, 'baseline')
        : null;
  if (problem !== null) return inconclusive(rule, at, problem, level.canary.requests, level.baseline.requests);
  const options = {
    condition: rule.failIf,
    minSamples: rule.minSamples ?? contract.minSamples,
    alpha: DEFAULT_ALPHA / level.levels,
    passAlpha: DEFAULT_ALPHA,
    traffic: { canaryRps: level.canaryRps, baselinePerCanary: level.baselinePerCanary },
  };
  const q = QUANTILE[rule.metric];
  const base = {
    ...verdictBase(rule, at),
    canarySamples: level.canary.requests,
    baselineSamples: level.baseline.requests,
    judge: 'sequential' as const,
  };
  if (RATES.includes(rule.metric)) {
    const canary = rateEvents(rule, level.canary);
    const baseline = rateEvents(rule, level.baseline);
    if (canary === null || baseline === null)
      return inconclusive(rule, at, noStatuses(rule), level.canary.requests, level.baseline.requests);
    const j = sequentialRate(
      {
        canary: { requests: level.canary.requests, errors: canary },
        baseline: { requests: level.baseline.requests, errors: baseline },
      },
      { ...options, metric: rule.metric },
    );
    const f = j.figures;
    return {
      ...base,
      outcome: j.outcome,
      canary: f.canaryRate,
      baseline: f.baselineRate,
      threshold: f.threshold,
      reason: noTraffic(level) ?? j.reason,
      evidence: evidenceOf(f),
      bound: j.bound,
      ...(j.needs && { needs: j.needs }),
    };
  }
  if (q === undefined) return null;
  const j = sequentialLatency({ canary: level.canary, baseline: level.baseline }, { ...options, quantile: q });
  const f = j.figures;
  return {
    ...base,
    outcome: j.outcome,
    canary: f.canaryQuantileMs,
    baseline: f.baselineQuantileMs,
    threshold: f.thresholdMs,
    reason: noTraffic(level) ?? j.reason,
    evidence: evidenceOf(f),
    ...(j.bound && { bound: j.bound }),
    ...(j.needs && { needs: j.needs }),
  };
}

const evidenceOf = (f: { eValue: number; eThreshold: number; alpha: number }) => ({
  eValue: Number.isFinite(f.eValue) ? f.eValue : Number.MAX_VALUE,
  eThreshold: f.eThreshold,
  alpha: f.alpha,
});

/** A level with no canary request at all says so plainly. */
function noTraffic(level: LevelCounts): string | null {
  if (level.canary.requests > 0) return null;
  return `no canary requests at this traffic level yet (${level.baseline.requests} baseline requests): nothing to judge, the step holds`;
}

/** A request metric: the sequential judge when the rule asks for it and counters exist, else the threshold judge on the window. */
export function judgeMetric(rule: MetricRule, contract: RollbackContract, obs: Observation, at: number): Verdict {
  if (rule.judge === 'mannWhitney') return judgeMannWhitney(rule, obs.points?.[rule.name], at);
  if (rule.judge === 'sequential') {
    const v = judgeSequential(rule, contract, obs, at);
    if (v !== null) return v;
    const t = judgeThreshold(rule, contract, obs, at);
    return {
      ...t,
      reason: `${t.reason} [threshold judge: the metrics provider keeps no counters for the sequential judge]`,
    };
  }
  return judgeThreshold(rule, contract, obs, at);
}

/**
 * The threshold judge on the window: Fail when the window's figure is beyond the threshold (with
 * minSamples); Pass only on evidence — for rates and latency quantiles the same confidence bounds
 * as the sequential judge, computed on the window; other metrics have no bound and pass on the figure.
 */
function judgeThreshold(rule: MetricRule, contract: RollbackContract, obs: Observation, at: number): Verdict {
  const minSamples = rule.minSamples ?? contract.minSamples;
  const vsBaseline = rule.failIf.reference === 'baseline';

  if (rule.metric === 'instance_crashes') {
    const baseline = obs.baselineCrashes;
    const threshold = thresholdOf(rule.failIf, baseline);
    if (threshold === null) return inconclusive(rule, at, 'no baseline');
    return compare(
      rule,
      rule.metric,
      {
        canary: obs.canaryCrashes,
        baseline: vsBaseline ? baseline : null,
        threshold,
        canarySamples: 0,
        baselineSamples: 0,
      },
      at,
    );
  }

  // Sample counts are reported whatever the verdict, so a person sees how far the data is.
  const baselineSamples = obs.baseline.kind === 'stats' ? obs.baseline.stats.requests : 0;
  const canaryProblem = unusable(obs.canary, 'canary');
  if (canaryProblem !== null) return inconclusive(rule, at, canaryProblem, 0, baselineSamples);
  const canary = (obs.canary as { kind: 'stats'; stats: WindowStats }).stats;
  if (canary.requests < minSamples) {
    return inconclusive(
      rule,
      at,
      `${canary.requests} of ${minSamples} canary requests needed in the window`,
      canary.requests,
      baselineSamples,
    );
  }
  let baselineStats: WindowStats | null = null;
  if (vsBaseline) {
    const baselineProblem = unusable(obs.baseline, 'baseline');
    if (baselineProblem !== null) return inconclusive(rule, at, baselineProblem, canary.requests);
    baselineStats = (obs.baseline as { kind: 'stats'; stats: WindowStats }).stats;
    if (baselineStats.requests < minSamples) {
      return inconclusive(
        rule,
        at,
        `${baselineStats.requests} of ${minSamples} baseline requests needed in the window`,
        canary.requests,
        baselineSamples,
      );
    }
  }
  const value = (stats: WindowStats) => {
    if (!RATES.includes(rule.metric)) return metricValue(rule.metric, stats);
    const events = rateEvents(rule, stats);
    return events === null || stats.requests === 0 ? null : events / stats.requests;
  };
  const baselineValue = baselineStats === null ? null : value(baselineStats);
  const canaryValue = value(canary);
  const threshold = thresholdOf(rule.failIf, baselineValue);
  if (canaryValue === null || threshold === null) {
    const why =
      RATES.includes(rule.metric) && rateEvents(rule, canary) === null
        ? noStatuses(rule)
        : 'the metric could not be computed';
    return inconclusive(rule, at, why, canary.requests, baselineSamples);
  }
  const verdict = compare(
    rule,
    rule.metric,
    { canary: canaryValue, baseline: baselineValue, threshold, canarySamples: canary.requests, baselineSamples },
    at,
  );
  if (verdict.outcome === 'Fail') return verdict;
  return withWindowEvidence(
    rule,
    verdict,
    canary,
    baselineStats ?? { requests: 0, errors: 0, latency: {}, windowMs: canary.windowMs },
    minSamples,
  );
}

/** A threshold Pass on a rate or a quantile stands only when the window's confidence bound is inside the threshold. */
function withWindowEvidence(
  rule: MetricRule,
  verdict: Verdict,
  canary: WindowStats,
  baseline: WindowStats,
  minSamples: number,
): Verdict {
  const q = QUANTILE[rule.metric];
  const options = { condition: rule.failIf, minSamples, alpha: DEFAULT_ALPHA };
  let j: { outcome: Verdict['outcome']; bound?: Verdict['bound']; reason: string } | null = null;
  if (RATES.includes(rule.metric)) {
    const c = rateEvents(rule, canary);
    const b = rateEvents(rule, baseline);
    if (c !== null && b !== null) {
      j = sequentialRate(
        { canary: { requests: canary.requests, errors: c }, baseline: { requests: baseline.requests, errors: b } },
        { ...options, metric: rule.metric },
      );
    }
  } else if (q !== undefined) {
    j = sequentialLatency({ canary, baseline }, { ...options, quantile: q });
  }
  if (j === null) return verdict;
  const bound = j.bound === undefined ? {} : { bound: j.bound };
  if (j.outcome === 'Pass') return { ...verdict, ...bound };
  return {
    ...verdict,
    ...bound,
    outcome: 'Inconclusive',
    reason: `${verdict.reason}, but not yet shown within it over the window: ${j.reason}`,
  };
}
