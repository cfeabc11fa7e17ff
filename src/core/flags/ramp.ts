import type { Ramp, Rule } from './model.ts';

/** A scheduled ramp's percentage at `now`: `from` before it starts, `to` after it ends, linear between (whole percents, rounded down). */
export function rampPercent(r: Ramp, now: number): number {
  if (now <= r.start) return r.from;
  if (now >= r.end) return r.to;
  return Math.floor(r.from + ((r.to - r.from) * (now - r.start)) / (r.end - r.start));
}

/** The percentage a rule exposes at `now` (a rule with neither rollout nor ramp: 100). */
export function rulePercent(rule: Rule, now: number): number {
  if (rule.ramp !== undefined) return rampPercent(rule.ramp, now);
  return rule.rollout?.percent ?? 100;
}
