import type { Observation } from '../observation.ts';
import type { SignalRule, Verdict } from '../../types.ts';
import { verdictBase } from './verdict.ts';

/** External signals: fail once `count` of them arrived within `withinMs` during the release. */
export function judgeSignal(rule: SignalRule, obs: Observation, at: number): Verdict {
  const times = (obs.signals?.[rule.signal] ?? []).filter((t) => t > at - rule.withinMs && t <= at);
  const failed = times.length >= rule.count;
  const within = `${Math.round(rule.withinMs / 1000)}s`;
  return {
    ...verdictBase(rule, at),
    outcome: failed ? 'Fail' : 'Pass',
    canary: times.length,
    baseline: null,
    threshold: rule.count,
    canarySamples: times.length,
    baselineSamples: 0,
    reason: `${times.length} ${rule.signal} signal(s) within ${within}: ${failed ? 'reaches' : 'below'} the limit of ${rule.count}`,
  };
}
