import { describeCondition, formatFigure } from '../figures.ts';
import type { Condition, Rule, RuleMetric, Verdict } from '../../types.ts';

/** The fields every verdict of a rule shares. */
export const verdictBase = (rule: Rule, at: number) => ({ rule: rule.name, metric: rule.metric, at });

export function inconclusive(rule: Rule, at: number, reason: string, canarySamples = 0, baselineSamples = 0): Verdict {
  return {
    ...verdictBase(rule, at),
    outcome: 'Inconclusive',
    canary: null,
    baseline: null,
    threshold: null,
    canarySamples,
    baselineSamples,
    reason,
  };
}

/** Compare a figure with its threshold and say so in words. */
export function compare(
  rule: Rule & { failIf: Condition },
  label: string,
  values: {
    canary: number;
    baseline: number | null;
    threshold: number;
    canarySamples: number;
    baselineSamples: number;
  },
  at: number,
): Verdict {
  const m: RuleMetric = rule.metric;
  const failed = rule.failIf.op === 'above' ? values.canary > values.threshold : values.canary < values.threshold;
  const figures = `canary ${formatFigure(m, values.canary)}${values.baseline !== null ? `, baseline ${formatFigure(m, values.baseline)}` : ''}`;
  const reason = `${label} ${figures}: ${failed ? 'fails' : 'within'} "${describeCondition(m, rule.failIf)}" (threshold ${formatFigure(m, values.threshold)})`;
  return { ...verdictBase(rule, at), outcome: failed ? 'Fail' : 'Pass', ...values, reason };
}
