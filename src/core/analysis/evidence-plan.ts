/**
 * Whether a release's steps can reach evidence in time: at the traffic a service receives, how
 * many canary requests each sequential rule needs before it can say Pass for a healthy canary,
 * how long that takes at each step's share, and whether that fits in `maxInconclusive` (after
 * which the release pauses for a person). `sluice lint` and apply print the answer as warnings.
 *
 * "Healthy" is an assumption, said in the warning: both revisions with 0.1% errors and the same
 * latency spread (a log-normal with σ = 0.5, typical of a web service). A worse baseline or a
 * wider spread needs more requests; a rule that cannot pass at all is said so.
 */
import { bucketOf, BUCKETS } from './histogram.ts';
import { requestsToPass } from './judges/needs.ts';
import { DEFAULT_ALPHA, passes } from './judges/sequential-rate.ts';
import { sequentialLatency } from './judges/sequential-latency.ts';
import { formatDuration } from '../units.ts';
import { DEFAULT_ERRORS, type HistogramCounts, type MetricRule, type RollbackContract, type Step } from '../types.ts';

/** The healthy error rate assumed for both revisions. */
const HEALTHY_ERRORS = 0.001;
/** Latency quantiles for a rule: p95 → 0.95. */
const QUANTILES: Partial<Record<string, number>> = {
  latency_p50: 0.5,
  latency_p90: 0.9,
  latency_p95: 0.95,
  latency_p99: 0.99,
};

export interface EvidenceWarning {
  /** Index of the setWeight step (in the strategy's steps). */
  step: number;
  weight: number;
  rule: string;
  message: string;
}

/** Canary requests the rule needs for a Pass of a healthy canary at this share, or null when it can never pass. */
export function requestsForPass(rule: MetricRule, weight: number): number | null {
  const baselinePerCanary = (100 - weight) / weight;
  const c = rule.failIf;
  if (DEFAULT_ERRORS[rule.metric] !== undefined) {
    // success_rate counts successes; error_rate counts errors.
    const rate = rule.metric === 'success_rate' ? 1 - HEALTHY_ERRORS : HEALTHY_ERRORS;
    const counts = (n: number) => ({ requests: n, errors: Math.round(n * rate) });
    return requestsToPass(
      (n) => n >= 50 && passes(counts(n), counts(Math.round(n * baselinePerCanary)), c, DEFAULT_ALPHA, 1e-5),
      200,
    );
  }
  const quantile = QUANTILES[rule.metric];
  if (quantile === undefined) return null;
  return requestsToPass((n) => {
    const j = sequentialLatency(
      {
        canary: { latency: healthyLatency(n) },
        baseline: { latency: healthyLatency(Math.round(n * baselinePerCanary)) },
      },
      { condition: c, quantile },
    );
    return j.outcome === 'Pass';
  }, 200);
}

/**
 * One warning per (setWeight step, sequential rule) whose healthy Pass takes longer than
 * `maxInconclusive` at `rps` requests per second to the service, saying what would fit.
 */
export function evidenceWarnings(
  steps: readonly { kind: string }[],
  contract: RollbackContract,
  rps: number,
): EvidenceWarning[] {
  const rules = contract.rules.filter(
    (r): r is MetricRule =>
      (r.metric in QUANTILES || DEFAULT_ERRORS[r.metric as MetricRule['metric']] !== undefined) &&
      (r as MetricRule).judge === 'sequential',
  );
  const warnings: EvidenceWarning[] = [];
  const budgetS = contract.maxInconclusiveMs / 1000;
  steps.forEach((step, index) => {
    if (step.kind !== 'setWeight') return;
    const { weight } = step as Step & { kind: 'setWeight' };
    if (weight <= 0 || weight >= 100) return;
    const canaryRps = (rps * weight) / 100;
    for (const rule of rules) {
      const needed = requestsForPass(rule, weight);
      const prefix = `step ${index + 1} (setWeight: ${weight}), rule ${rule.name}`;
      if (needed === null) {
        warnings.push({
          step: index,
          weight,
          rule: rule.name,
          message: `${prefix}: cannot show a healthy canary within the rule; the release would pause at this step${hint(rule)}`,
        });
        continue;
      }
      const seconds = needed / canaryRps;
      if (seconds <= budgetS) continue;
      const fits = smallestWeight(rule, rps, budgetS, weight);
      const longer = formatDuration(Math.ceil(seconds / 60) * 60_000);
      const fix =
        fits === null
          ? `maxInconclusive: ${longer} or more traffic`
          : `setWeight: ${fits} or more, or maxInconclusive: ${longer}`;
      warnings.push({
        step: index,
        weight,
        rule: rule.name,
        message:
          `${prefix}: at ${round(rps)} req/s the canary gets ${round(canaryRps)} req/s and needs about ${needed} requests to show it is healthy ` +
          `(~${about(seconds)}), longer than maxInconclusive ${formatDuration(contract.maxInconclusiveMs)}: the release would pause here. ` +
          `Use ${fix}${hint(rule)}`,
      });
    }
  });
  return warnings;
}

/** A rate rule with times alone allows little above a stable version with few errors, and nothing above one with none. */
function hint(rule: MetricRule): string {
  const c = rule.failIf;
  return c.reference === 'baseline' && c.by === undefined && DEFAULT_ERRORS[rule.metric] !== undefined
    ? '. times alone allows little while the stable version has few errors, and nothing when it has none: add by:, e.g. by: 0.02'
    : '';
}

function smallestWeight(rule: MetricRule, rps: number, budgetS: number, from: number): number | null {
  for (let w = Math.ceil(from) + 1; w <= 90; w++) {
    const needed = requestsForPass(rule, w);
    if (needed !== null && needed / ((rps * w) / 100) <= budgetS) return w;
  }
  return null;
}

/** Seconds, rounded up to a whole minute beyond two minutes, as a spec duration. */
const about = (s: number) => formatDuration(s > 120 ? Math.ceil(s / 60) * 60_000 : Math.ceil(s) * 1000);
const round = (x: number) => (x >= 10 ? Math.round(x) : Number(x.toPrecision(2)));

/** Shares per histogram bucket of a log-normal latency (median 100 ms, σ = 0.5), from 2,000 evenly spaced quantiles. */
const SHAPE: number[] = (() => {
  const shares = new Array<number>(BUCKETS).fill(0);
  const points = 2000;
  for (let i = 0; i < points; i++)
    shares[bucketOf(100 * Math.exp(0.5 * normalQuantile((i + 0.5) / points)))]! += 1 / points;
  return shares;
})();

function healthyLatency(n: number): HistogramCounts {
  return SHAPE.map((share) => Math.round(share * n));
}

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const poly = (k: number[], x: number) => k.reduce((acc, v) => acc * x + v, 0);
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - 0.02425) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}
