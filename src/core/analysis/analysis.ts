import { accumulate, increaseOf } from './accumulate.ts';
import { appendPoints, pointsOf, type RulePoints } from './rules/mann-whitney-rule.ts';
import type { DecisionBuilder } from '../release/decision.ts';
import { judgeRule, type Observation, providerError } from './judge.ts';
import { levelCounts } from './level.ts';
import { advance } from '../release/progression.ts';
import { rollBack } from '../release/rollback.ts';
import { isActive, type ReleaseState } from '../release/state.ts';

/**
 * One evaluation of the rollback contract: judge every rule on the observation, record the
 * verdicts, and roll back, pause or move on.
 */
export function observe(b: DecisionBuilder, obs: Observation): void {
  const r = b.state.release;
  if (!isActive(r) || r.from === null) return;
  const accumulated = accumulate(r.accumulated, obs);
  const increase =
    accumulated === null
      ? undefined
      : {
          canary: increaseOf(r.accumulated?.canary, accumulated.canary),
          baseline: increaseOf(r.accumulated?.baseline, accumulated.baseline),
        };
  const level = accumulated === null ? undefined : levelCounts(accumulated, r, b.now);
  const withCounts: Observation = {
    ...obs,
    signals: r.signals ?? {},
    ...(accumulated !== null && { accumulated }),
    ...(increase && { increase }),
    ...(level && { level }),
  };
  const { newPoints, points } = mannWhitneyPoints(r, withCounts);
  const verdicts = r.contract.rules.map((rule) => judgeRule(rule, r.contract, { ...withCounts, points }, b.now));
  const metricsError = providerError(obs);
  b.emit({
    type: 'analysis.evaluated',
    verdicts,
    ...(metricsError !== null && { metricsError }),
    ...(accumulated !== null && { accumulated }),
    ...(Object.keys(newPoints).length > 0 && { points: newPoints }),
  });
  const after = b.state.release as ReleaseState;
  for (const rule of r.contract.rules) {
    const s = after.rules[rule.name];
    if (s === undefined) continue;
    const consecutive = rule.consecutive ?? r.contract.consecutive;
    const limit = rule.failureLimit !== undefined ? rule.failureLimit : r.contract.failureLimit;
    const overLimit = limit !== null && s.totalFails > limit;
    if (s.consecutiveFails >= consecutive || overLimit) {
      const why = overLimit
        ? `${s.totalFails} failed evaluations (limit ${limit})`
        : `${s.consecutiveFails} failed evaluation(s) in a row`;
      rollBack(b, 'contract', rule.name, `${s.last?.reason ?? rule.name}; ${why}`, verdicts, 'RolledBack');
      return;
    }
  }
  // Contracts recorded before the policy existed get its defaults.
  const policy = r.contract.metricsErrors ?? { limit: 3, action: 'pause' };
  if (metricsError !== null && (after.metricsErrors ?? 0) >= policy.limit) {
    const why = `the metrics provider failed ${after.metricsErrors} evaluations in a row: ${metricsError}`;
    if (policy.action === 'rollback') {
      rollBack(b, 'contract', 'metrics', why, verdicts, 'RolledBack');
      return;
    }
    if (after.status === 'Progressing') {
      b.emit({ type: 'release.paused', reason: 'inconclusive', detail: why });
      return;
    }
  }
  if (after.status === 'Progressing') {
    const stuck = r.contract.rules.find((rule) => {
      const since = after.rules[rule.name]?.inconclusiveSince;
      return since !== null && since !== undefined && b.now - since >= r.contract.maxInconclusiveMs;
    });
    if (stuck !== undefined) {
      const last = after.rules[stuck.name]?.last?.reason ?? 'no data';
      b.emit({
        type: 'release.paused',
        reason: 'inconclusive',
        detail: `rule ${stuck.name} has been inconclusive for ${Math.round(r.contract.maxInconclusiveMs / 1000)}s: ${last}`,
      });
      return;
    }
  }
  advance(b);
}

/** Mann–Whitney rules: this interval's point of each revision, and the release's series with it. */
function mannWhitneyPoints(r: ReleaseState, obs: Observation) {
  const newPoints: Record<string, { canary: number | null; baseline: number | null }> = {};
  const points: Record<string, RulePoints> = {};
  for (const rule of r.contract.rules) {
    if (
      rule.metric === 'query' ||
      rule.metric === 'burn_rate' ||
      rule.metric === 'signal' ||
      rule.judge !== 'mannWhitney'
    )
      continue;
    const point = pointsOf(rule, obs);
    newPoints[rule.name] = point;
    points[rule.name] = appendPoints(r.points?.[rule.name], point);
  }
  return { newPoints, points };
}
