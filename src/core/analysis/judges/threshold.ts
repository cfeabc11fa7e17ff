/**
 * The threshold judge (the core's window comparison, ../judge.ts) behind the same Judgment shape as
 * the statistical judges, so `sluice judge` and the judge benchmark can run all three side by side.
 */
import { judgeRule } from '../judge.ts';
import type { Condition, MetricName, RollbackContract, WindowStats } from '../../types.ts';
import type { Judgment } from './judgment.ts';

export interface ThresholdInput {
  canary: WindowStats;
  baseline: WindowStats;
}

export interface ThresholdOptions {
  metric: MetricName;
  condition: Condition;
  /** Canary (and baseline) requests needed for a verdict. Default 50. */
  minSamples?: number;
}

export interface ThresholdFigures {
  canary: number | null;
  baseline: number | null;
  threshold: number | null;
  canarySamples: number;
  baselineSamples: number;
}

export function thresholdJudge(input: ThresholdInput, options: ThresholdOptions): Judgment<ThresholdFigures> {
  const rule = { name: options.metric, metric: options.metric, failIf: options.condition };
  const contract: RollbackContract = {
    intervalMs: input.canary.windowMs,
    windowMs: input.canary.windowMs,
    minSamples: options.minSamples ?? 50,
    consecutive: 1,
    failureLimit: null,
    maxInconclusiveMs: Infinity,
    metricsErrors: { limit: 1, action: 'pause' },
    rules: [rule],
  };
  const v = judgeRule(
    rule,
    contract,
    {
      canary: { kind: 'stats', stats: input.canary },
      baseline: { kind: 'stats', stats: input.baseline },
      canaryCrashes: 0,
      baselineCrashes: 0,
    },
    0,
  );
  return {
    judge: 'threshold',
    outcome: v.outcome,
    figures: {
      canary: v.canary,
      baseline: v.baseline,
      threshold: v.threshold,
      canarySamples: v.canarySamples,
      baselineSamples: v.baselineSamples,
    },
    reason: v.reason,
  };
}
