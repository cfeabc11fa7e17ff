/**
 * `judge: mannWhitney` on a metric rule, as Kayenta judges a canary: one point per evaluation
 * interval for each revision (the metric over that interval's own requests), compared with a
 * Mann–Whitney test at 98% confidence and classified High / Low / Pass (judges/kayenta.ts).
 * A rule `above: baseline, times: 1.1` allows a 10% increase of the canary's mean. Like Kayenta,
 * it looks again at every interval without correcting for it: see docs/judges.md for what that
 * costs, and prefer the sequential judge.
 */
import { metricValue } from '../figures.ts';
import type { Observation, RulePoints } from '../observation.ts';
import { classifyMetric } from '../judges/kayenta.ts';
import type { MetricRule, Verdict } from '../../types.ts';
import { inconclusive, verdictBase } from './verdict.ts';

export type { RulePoints } from '../observation.ts';

/** Points each revision needs before a verdict (Kayenta's canary analyses use about 50). */
export const MIN_POINTS = 10;
/** Points kept per revision and rule: the last 10 minutes at one per second. */
export const MAX_POINTS = 600;

/** This evaluation's point of each revision (null when the interval had no request). */
export function pointsOf(rule: MetricRule, obs: Observation): { canary: number | null; baseline: number | null } {
  const inc = obs.increase;
  if (inc === undefined) return { canary: null, baseline: null };
  const value = (c: { requests: number; errors: number; latency: Record<number, number> }) =>
    c.requests > 0 ? metricValue(rule.metric, { ...c, windowMs: 1 }) : null;
  return { canary: value(inc.canary), baseline: value(inc.baseline) };
}

export function judgeMannWhitney(rule: MetricRule, points: RulePoints | undefined, at: number): Verdict {
  const canary = points?.canary ?? [];
  const baseline = points?.baseline ?? [];
  if (canary.length < MIN_POINTS || baseline.length < MIN_POINTS) {
    return inconclusive(
      rule,
      at,
      `${canary.length} canary and ${baseline.length} baseline points of ${MIN_POINTS} needed (one per interval)`,
      canary.length,
      baseline.length,
    );
  }
  const above = rule.failIf.op === 'above';
  const allowed = Math.abs((rule.failIf.times ?? 1) - 1);
  const r = classifyMetric(canary, baseline, {
    direction: above ? 'increase' : 'decrease',
    allowedIncrease: allowed,
    allowedDecrease: allowed,
  });
  const failed = r.classification === (above ? 'High' : 'Low');
  const test = r.test;
  // Pass needs evidence too: the interval of the shift lies within what the rule allows
  // (Kayenta calls every interval that does not prove a regression Pass; here that is Inconclusive).
  const baseMean = baseline.reduce((s, v) => s + v, 0) / baseline.length;
  const allowedShift = allowed * Math.abs(baseMean);
  const within =
    test === null
      ? r.classification === 'Pass'
      : above
        ? test.interval[1] <= allowedShift
        : test.interval[0] >= -allowedShift;
  const outcome = failed ? 'Fail' : within ? 'Pass' : 'Inconclusive';
  const shown =
    outcome === 'Inconclusive'
      ? `; not yet shown within the rule: the interval's ${above ? 'upper' : 'lower'} end must be within ${above ? '+' : '−'}${allowedShift.toPrecision(3)}`
      : '';
  return {
    ...verdictBase(rule, at),
    outcome,
    canary: test?.estimate ?? null,
    baseline: null,
    threshold: null,
    canarySamples: canary.length,
    baselineSamples: baseline.length,
    reason: `${rule.metric} (Mann–Whitney over ${canary.length}/${baseline.length} points): ${r.classification}, ${r.reason}${shown}`,
    ...(test !== null && {
      bound: {
        side: above ? 'atMost' : 'atLeast',
        value: above ? test.interval[1] : test.interval[0],
        allowed: above ? allowedShift : -allowedShift,
        confidence: test.confLevel,
      },
    }),
    judge: 'mannWhitney',
  };
}

/** The rule's points after this evaluation's (kept to the last MAX_POINTS of each revision). */
export function appendPoints(
  prev: RulePoints | undefined,
  point: { canary: number | null; baseline: number | null },
): RulePoints {
  const add = (xs: number[] | undefined, x: number | null) =>
    x === null ? (xs ?? []) : [...(xs ?? []), x].slice(-MAX_POINTS);
  return { canary: add(prev?.canary, point.canary), baseline: add(prev?.baseline, point.baseline) };
}
