import { mean, quantile } from './histogram.ts';
import type { Condition, EvidenceBound, MetricName, RuleMetric, Verdict, WindowStats } from '../types.ts';

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
    case 'success_rate':
      return 1 - stats.errors / stats.requests;
    case 'latency_mean':
      return mean(stats.latency);
    case 'request_rate':
      return stats.requests / (stats.windowMs / 1000);
    default:
      return null;
  }
}

/** A figure as people read it: 1.25%, 512.0ms, 40.0/s, 14.4× for a burn rate. */
export function formatFigure(metric: RuleMetric, value: number): string {
  if (metric === 'error_rate' || metric === 'success_rate') return `${(value * 100).toFixed(2)}%`;
  if (metric.startsWith('latency')) return `${value.toFixed(1)}ms`;
  if (metric === 'request_rate') return `${value.toFixed(1)}/s`;
  if (metric === 'burn_rate') return `${value.toFixed(1)}×`;
  if (metric === 'query') return String(Number(value.toPrecision(4)));
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

/** "above baseline + 1.00%", "below 2× baseline", "above 500.0ms". */
export function describeCondition(metric: RuleMetric, c: Condition): string {
  if (c.reference !== 'baseline') return `${c.op} ${formatFigure(metric, c.reference)}`;
  const parts = [c.times !== undefined ? `${c.times}× baseline` : 'baseline'];
  if (c.by !== undefined) parts.push(`${c.op === 'above' ? '+' : '−'} ${formatFigure(metric, c.by)}`);
  return `${c.op} ${parts.join(' ')}`;
}

/**
 * A verdict's evidence as people read it: "canary ≤ 1.30% at 99.5% confidence; allowed ≤ 2.00%"
 * for a Pass, "canary ≥ 4.10% …; allowed ≤ 2.50%" for a Fail; null without a bound.
 */
export function describeBound(v: Pick<Verdict, 'metric' | 'outcome' | 'bound'>): string | null {
  const b = v.bound;
  if (b === undefined) return null;
  const sign = (side: EvidenceBound['side']) => (side === 'atMost' ? '≤' : '≥');
  // A Pass shows the bound on the rule's side; a Fail the bound beyond it, on the other side.
  const allowedSide = v.outcome === 'Fail' ? (b.side === 'atMost' ? 'atLeast' : 'atMost') : b.side;
  const confidence = `${Number((b.confidence * 100).toPrecision(4))}%`;
  return `canary ${sign(b.side)} ${formatFigure(v.metric, b.value)} at ${confidence} confidence; allowed ${sign(allowedSide)} ${formatFigure(v.metric, b.allowed)}`;
}
