import type { Observation } from '../observation.ts';
import { upperBound } from '../judges/mixture.ts';
import { DEFAULT_ALPHA } from '../judges/sequential-rate.ts';
import type { BurnRateRule, Measurement, RollbackContract, Verdict } from '../../types.ts';
import { unusable } from './metric.ts';
import { inconclusive, verdictBase } from './verdict.ts';

interface WindowBurn {
  ms: number;
  rate: number;
  /** Upper confidence bound of the burn rate (Pass needs it within the factor). */
  upper: number;
  requests: number;
}

/**
 * Multi-window, multi-burn-rate check on the canary (Google SRE Workbook, "Alerting on SLOs",
 * recipe 6): a window pair fails when the burn rate exceeds its factor over both the long and the
 * short window; the short window makes the verdict recover quickly once the canary is fixed.
 * Windows longer than the release so far measure what there is.
 */
export function judgeBurnRate(rule: BurnRateRule, contract: RollbackContract, obs: Observation, at: number): Verdict {
  const budget = 1 - rule.objective;
  const minSamples = rule.minSamples ?? contract.minSamples;
  const burn = (ms: number): WindowBurn | string => {
    const m: Measurement = obs.canaryWindows?.[ms] ?? { kind: 'noData' };
    const bad = unusable(m, 'canary');
    if (bad !== null) return `${bad} (${Math.round(ms / 1000)}s window)`;
    const { requests, errors } = (m as { kind: 'stats'; stats: { requests: number; errors: number } }).stats;
    if (requests < minSamples)
      return `${requests} of ${minSamples} canary requests in the ${Math.round(ms / 1000)}s window`;
    return {
      ms,
      rate: errors / requests / budget,
      upper: upperBound(errors, requests, DEFAULT_ALPHA) / budget,
      requests,
    };
  };
  let worst: { pair: string; rate: number; upper: number; factor: number; requests: number } | null = null;
  const waiting: string[] = [];
  for (const w of rule.windows) {
    const long = burn(w.longMs);
    const short = burn(w.shortMs);
    if (typeof long === 'string' || typeof short === 'string') {
      waiting.push(typeof long === 'string' ? long : (short as string));
      continue;
    }
    const rate = Math.min(long.rate, short.rate);
    const pair = `${Math.round(w.longMs / 1000)}s/${Math.round(w.shortMs / 1000)}s`;
    if (rate > w.factor) {
      return {
        ...verdictBase(rule, at),
        outcome: 'Fail',
        canary: rate,
        baseline: null,
        threshold: w.factor,
        canarySamples: short.requests,
        baselineSamples: 0,
        reason: `canary burns its ${(rule.objective * 100).toFixed(2)}% error budget at ${long.rate.toFixed(1)}× over ${Math.round(w.longMs / 1000)}s and ${short.rate.toFixed(1)}× over ${Math.round(w.shortMs / 1000)}s: above ${w.factor}× (${pair})`,
      };
    }
    const upper = Math.min(long.upper, short.upper);
    if (worst === null || upper / w.factor > worst.upper / worst.factor)
      worst = { pair, rate, upper, factor: w.factor, requests: short.requests };
  }
  if (worst === null || waiting.length > 0) return inconclusive(rule, at, waiting[0] ?? 'no burn-rate window measured');
  const shown = worst.upper <= worst.factor;
  return {
    ...verdictBase(rule, at),
    outcome: shown ? 'Pass' : 'Inconclusive',
    bound: { side: 'atMost', value: worst.upper, allowed: worst.factor, confidence: 1 - DEFAULT_ALPHA },
    canary: worst.rate,
    baseline: null,
    threshold: worst.factor,
    canarySamples: worst.requests,
    baselineSamples: 0,
    reason: shown
      ? `canary burns its error budget at ${worst.rate.toFixed(1)}× (${worst.pair}), at most ${worst.upper.toFixed(1)}× at ${(100 - DEFAULT_ALPHA * 100).toFixed(1)}% confidence: within ${worst.factor}×`
      : `canary burns its error budget at ${worst.rate.toFixed(1)}× (${worst.pair}); not yet shown within ${worst.factor}×: at most ${worst.upper.toFixed(1)}× so far, more requests needed`,
  };
}
