import type { DecisionBuilder } from './decision.ts';
import { formatFigure } from '../analysis/judge.ts';
import { isActive } from './state.ts';
import type { MetricName, Rule } from '../types.ts';

/**
 * Once the new revision takes 100% (blue-green after the switch, post-promotion analysis, the
 * Verify phase) the baseline has no traffic left to compare with. Each rule comparing with the
 * baseline becomes a fixed threshold from the baseline's last measured value, recorded in one
 * event so a person sees what the release is held to. A rule never measured against a baseline
 * is left as it is (it stays Inconclusive rather than passing on nothing).
 */
export function freezeContractAtFull(b: DecisionBuilder): void {
  const r = b.state.release;
  if (!isActive(r) || r.from === null || r.contractFrozen) return;
  if ((b.state.weights[r.to.key] ?? 0) < 100) return;
  const notes: string[] = [];
  const rules = r.contract.rules.map((rule): Rule => {
    const baseline = r.rules[rule.name]?.last?.baseline ?? null;
    if (!('failIf' in rule) || rule.failIf.reference !== 'baseline' || baseline === null) return rule;
    const { op, times = 1, by = 0 } = rule.failIf;
    const threshold = op === 'above' ? baseline * times + by : baseline * times - by;
    const show = (v: number) => (rule.metric === 'query' ? String(v) : formatFigure(rule.metric as MetricName, v));
    notes.push(`${rule.name} ${op} ${show(threshold)} (last baseline ${show(baseline)})`);
    return { ...rule, failIf: { op, reference: threshold } };
  });
  const detail =
    notes.length > 0
      ? `the baseline takes no traffic at 100%: ${notes.join('; ')}`
      : 'the baseline takes no traffic at 100%; no baseline rule had a measured baseline';
  b.emit({ type: 'contract.frozen', contract: { ...r.contract, rules }, detail });
}
