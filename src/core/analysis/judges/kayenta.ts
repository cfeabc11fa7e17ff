/**
 * The mannWhitney judge as Kayenta's NetflixACAJudge runs it, for teams coming from Spinnaker:
 * per metric, a Mann–Whitney test of canary against baseline at 98% confidence, classified
 * High / Low / Pass (Kayenta's MannWhitneyClassifier), then a weighted score over the metrics
 * (WeightedSumScorer) classified against pass and marginal thresholds (ThresholdScoreClassifier).
 *
 * Classification, as Kayenta: with est = |Hodges–Lehmann estimate| and the interval [lo, hi],
 *   High when the direction allows increases, lo > tolerance × est, and
 *        mean(canary) / mean(baseline) ≥ 1 + allowedIncrease;
 *   Low  when the direction allows decreases, hi < −tolerance × est, and
 *        mean(canary) / mean(baseline) ≤ 1 − allowedDecrease;
 *   Pass otherwise, and when both samples hold the same values.
 * Kayenta's defaults: tolerance 0.25, confidence 0.98, allowed increase/decrease 0.
 */
import type { VerdictOutcome } from '../../types.ts';
import { formatEvidence, type Judgment } from './judgment.ts';
import { type MannWhitneyResult, mannWhitney } from './mann-whitney.ts';

export type Direction = 'increase' | 'decrease' | 'either';
export type MetricClassification = 'High' | 'Low' | 'Pass' | 'NoData';

export interface MetricOptions {
  direction?: Direction;
  /** Allowed relative increase of the canary's mean, e.g. 0.1 for 10%. */
  allowedIncrease?: number;
  /** Allowed relative decrease of the canary's mean, e.g. 0.1 for 10%. */
  allowedDecrease?: number;
  /** Kayenta's fraction of |estimate| the interval must clear (default 0.25). */
  tolerance?: number;
  confLevel?: number;
}

export interface MetricResult {
  classification: MetricClassification;
  reason: string;
  test: MannWhitneyResult | null;
  /** mean(canary) / mean(baseline): Infinity or NaN when the baseline's mean is 0, as in Kayenta. */
  meanRatio: number | null;
}

const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

export function classifyMetric(
  canary: readonly number[],
  baseline: readonly number[],
  options: MetricOptions = {},
): MetricResult {
  const direction = options.direction ?? 'either';
  const tolerance = options.tolerance ?? 0.25;
  if (canary.length === 0 || baseline.length === 0) {
    return {
      classification: 'NoData',
      reason: `no data: ${canary.length} canary and ${baseline.length} baseline values`,
      test: null,
      meanRatio: null,
    };
  }
  const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
  const c = sorted(canary);
  const b = sorted(baseline);
  if (c.length === b.length && c.every((v, i) => v === b[i])) {
    return { classification: 'Pass', reason: 'the canary and baseline values are identical', test: null, meanRatio: 1 };
  }
  const test = mannWhitney(canary, baseline, options.confLevel ?? 0.98);
  const meanRatio = mean(canary) / mean(baseline);
  const critical = tolerance * Math.abs(test.estimate);
  const [lo, hi] = test.interval;
  const figures =
    `shift ${formatEvidence(test.estimate)} [${formatEvidence(lo)}, ${formatEvidence(hi)}] at ${test.confLevel * 100}%, ` +
    `p ${formatEvidence(test.pValue)}, mean ratio ${formatEvidence(meanRatio)}`;
  if (direction !== 'decrease' && lo > critical && meanRatio >= 1 + (options.allowedIncrease ?? 0)) {
    return { classification: 'High', reason: `canary higher than baseline: ${figures}`, test, meanRatio };
  }
  if (direction !== 'increase' && hi < -critical && meanRatio <= 1 - (options.allowedDecrease ?? 0)) {
    return { classification: 'Low', reason: `canary lower than baseline: ${figures}`, test, meanRatio };
  }
  return {
    classification: 'Pass',
    reason: `no significant difference beyond what is allowed: ${figures}`,
    test,
    meanRatio,
  };
}

export interface ScoredMetric {
  name: string;
  classification: MetricClassification;
  /** The metric's group (Kayenta's groups); default: the metric's name. */
  group?: string;
  /** A critical metric that is not Pass sets the score to 0. */
  critical?: boolean;
}

export interface ScoreOptions {
  /** Percent per group; groups without a weight share what is left of 100 equally. */
  groupWeights?: Record<string, number>;
  /** Score ≥ pass: Pass. Default 95. */
  pass?: number;
  /** Score ≥ marginal (and < pass): Marginal, reported as Inconclusive. Default 75. */
  marginal?: number;
}

export interface ScoreFigures {
  score: number;
  classification: 'Pass' | 'Marginal' | 'Fail';
  groups: Record<string, number>;
  pass: number;
  marginal: number;
}

export function scoreMetrics(metrics: readonly ScoredMetric[], options: ScoreOptions = {}): Judgment<ScoreFigures> {
  const pass = options.pass ?? 95;
  const marginal = options.marginal ?? 75;
  const weights = options.groupWeights ?? {};
  const byGroup = new Map<string, MetricClassification[]>();
  for (const m of metrics) {
    const g = m.group ?? m.name;
    byGroup.set(g, [...(byGroup.get(g) ?? []), m.classification]);
  }
  const unweighted = [...byGroup.keys()].filter((g) => weights[g] === undefined);
  const given = Object.values(weights).reduce((s, w) => s + w, 0);
  const share = unweighted.length > 0 ? (100 - given) / unweighted.length : 0;
  const groups: Record<string, number> = {};
  let score = 0;
  for (const [g, labels] of byGroup) {
    const counted = labels.filter((l) => l !== 'NoData');
    if (counted.length === 0) continue; // a group without data adds nothing, as in Kayenta
    groups[g] = (counted.filter((l) => l === 'Pass').length / counted.length) * 100;
    score += groups[g] * ((weights[g] ?? share) / 100);
  }
  const criticalFailures = metrics.filter((m) => m.critical && m.classification !== 'Pass').map((m) => m.name);
  if (criticalFailures.length > 0) score = 0;
  const classification = score >= pass ? 'Pass' : score >= marginal ? 'Marginal' : 'Fail';
  const outcome: VerdictOutcome =
    classification === 'Pass' ? 'Pass' : classification === 'Marginal' ? 'Inconclusive' : 'Fail';
  const notPass = metrics.filter((m) => m.classification !== 'Pass').map((m) => `${m.name} ${m.classification}`);
  const reason =
    `score ${score.toFixed(1)} (pass ≥ ${pass}, marginal ≥ ${marginal}): ${classification}` +
    (criticalFailures.length > 0 ? `; critical metric not Pass: ${criticalFailures.join(', ')}` : '') +
    (notPass.length > 0 ? `; ${notPass.join(', ')}` : '; every metric Pass');
  return { judge: 'mannWhitney', outcome, figures: { score, classification, groups, pass, marginal }, reason };
}
