/** Flags as the API and the CLI show them: per environment, the exposure of each rule, and staleness now. */
import type { FlagRecord } from '../core/flags/flag-set.ts';
import { staleness } from '../core/flags/lifecycle.ts';
import { rulePercent } from '../core/flags/ramp.ts';

export function flagView(r: FlagRecord, now: number) {
  const f = r.flag;
  return {
    name: f.name,
    type: f.type,
    owner: f.owner,
    description: f.description,
    archived: r.archived,
    variants: f.variants,
    defaultVariant: f.defaultVariant,
    offVariant: f.offVariant,
    createdAt: new Date(r.createdAt).toISOString(),
    createdBy: r.createdBy,
    updatedAt: new Date(r.updatedAt).toISOString(),
    updatedBy: r.updatedBy,
    staleness: staleness(r.createdAt, f.lifetimeDays, now),
    /** The flag's rollback contract in brief: the service and environment it judges, and where its evidence comes from. */
    contract:
      f.rollbackContract === undefined
        ? null
        : {
            service: f.rollbackContract.service,
            environment: f.rollbackContract.environment,
            evidence: f.rollbackContract.evidence ?? 'proxy',
            onFail: f.rollbackContract.onFail ?? 'off',
          },
    environments: Object.fromEntries(
      Object.entries(f.environments).map(([env, e]) => [
        env,
        {
          enabled: e.enabled,
          protected: e.protected ?? false,
          /**
           * Frozen by the contract (onFail: pause) until a person resumes or sets it: since when, the
           * contract's rule that failed and its figures, the exposing rule and the percent it froze at.
           */
          paused:
            e.paused === undefined
              ? null
              : {
                  at: new Date(e.paused.at).toISOString(),
                  trigger: e.paused.trigger,
                  detail: e.paused.detail,
                  rule: e.paused.rule,
                  percent: e.paused.percent,
                },
          rules: e.rules.map((rule) => ({ ...rule, percentNow: rulePercent(rule, now) })),
        },
      ]),
    ),
  };
}
export type FlagView = ReturnType<typeof flagView>;
