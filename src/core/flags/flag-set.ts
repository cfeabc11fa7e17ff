/**
 * The flag set as folded from the `_flags` log: every flag as it now stands, with when it was
 * created and last changed, and the segments. `version` is the seq of the last event folded: it
 * changes with every change, so it is the ETag of what providers and OFREP serve.
 */
import type { FlagEvent } from './events.ts';
import type { FeatureFlag, FlagEnvironment, Rule, Segment } from './model.ts';
import { rulePercent } from './ramp.ts';

export interface FlagRecord {
  flag: FeatureFlag;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  updatedBy: string;
  archived: boolean;
}

export interface FlagSet {
  flags: Record<string, FlagRecord>;
  segments: Record<string, Segment>;
  version: number;
}

export const emptyFlagSet = (): FlagSet => ({ flags: {}, segments: {}, version: 0 });

/** The rule `flag set --percent` changes in an environment: the named one, else the only rule with an exposure. */
export function exposedRule(rules: readonly Rule[], name: string | null): Rule | null {
  if (name !== null) return rules.find((r) => r.name === name) ?? null;
  const exposed = rules.filter((r) => r.rollout !== undefined || r.ramp !== undefined);
  return exposed.length === 1 ? exposed[0]! : null;
}

function withPercent(r: Rule, percent: number, flag: string): Rule {
  const sticky = r.rollout ?? r.ramp;
  const { ramp: _ramp, ...rest } = r;
  return {
    ...rest,
    rollout: { percent, stickiness: sticky?.stickiness ?? 'default', groupId: sticky?.groupId ?? flag },
  };
}

/** A paused rule's ramp again, its schedule shifted by how long it was paused, so it goes on from the percent it froze at. */
function resumed(r: Rule, paused: NonNullable<FlagEnvironment['paused']>, at: number): Rule {
  const held = paused.ramp;
  if (held === undefined || held.rule !== r.name) return r;
  const { rollout: _frozen, ...rest } = r;
  const shift = Math.max(0, at - paused.at);
  return { ...rest, ramp: { ...held.ramp, start: held.ramp.start + shift, end: held.ramp.end + shift } };
}

function changeEnvironment(
  set: FlagSet,
  name: string,
  environment: string,
  at: number,
  actor: string,
  change: (rules: Rule[], enabled: boolean) => { rules: Rule[]; enabled: boolean; paused?: FlagEnvironment['paused'] },
): FlagSet {
  const record = set.flags[name];
  if (record === undefined) return set;
  const { paused: _held, ...env } = record.flag.environments[environment] ?? { enabled: false, rules: [] };
  // Any change by a person (or a release step) ends a pause; only a new pause sets one.
  const flag = {
    ...record.flag,
    environments: { ...record.flag.environments, [environment]: { ...env, ...change(env.rules, env.enabled) } },
  };
  return { ...set, flags: { ...set.flags, [name]: { ...record, flag, updatedAt: at, updatedBy: actor } } };
}

/** Fold one event (as stored: with its time, actor and seq). */
export function reduceFlags(set: FlagSet, e: FlagEvent & { at: number; actor: string; seq: number }): FlagSet {
  const next = reduceOne(set, e);
  return { ...next, version: e.seq };
}

function reduceOne(set: FlagSet, e: FlagEvent & { at: number; actor: string }): FlagSet {
  switch (e.type) {
    case 'flag.applied': {
      const before = set.flags[e.flag.name];
      const record: FlagRecord = {
        flag: e.flag,
        createdAt: before?.createdAt ?? e.at,
        createdBy: before?.createdBy ?? e.actor,
        updatedAt: e.at,
        updatedBy: e.actor,
        archived: false,
      };
      return { ...set, flags: { ...set.flags, [e.flag.name]: record } };
    }
    case 'flag.percentSet':
      return changeEnvironment(set, e.flag, e.environment, e.at, e.actor, (rules, enabled) => ({
        enabled,
        rules: rules.some((r) => r.name === e.rule)
          ? rules.map((r) => (r.name === e.rule ? withPercent(r, e.percent, e.flag) : r))
          : [...rules, withPercent({ name: e.rule, when: [], segments: [], serve: 'on' }, e.percent, e.flag)],
      }));
    case 'flag.enabled':
      return changeEnvironment(set, e.flag, e.environment, e.at, e.actor, (rules) => ({ rules, enabled: true }));
    case 'flag.disabled':
      return changeEnvironment(set, e.flag, e.environment, e.at, e.actor, (rules) => ({ rules, enabled: false }));
    case 'flag.rolledBack':
      return changeEnvironment(set, e.flag, e.log.environment, e.at, e.actor, (rules) => ({ rules, enabled: false }));
    case 'flag.paused':
      return changeEnvironment(set, e.flag, e.environment, e.at, e.actor, (rules, enabled) => ({
        enabled,
        rules: rules.map((r) =>
          r.name === e.rule ? withPercent(r, e.log.percent ?? rulePercent(r, e.log.at), e.flag) : r,
        ),
        paused: {
          at: e.log.at,
          trigger: e.log.trigger,
          detail: e.log.detail,
          rule: e.rule,
          percent: e.log.percent,
          ...(() => {
            const ramp = rules.find((r) => r.name === e.rule)?.ramp;
            return ramp === undefined ? {} : { ramp: { rule: e.rule!, ramp } };
          })(),
        },
      }));
    case 'flag.resumed': {
      const paused = set.flags[e.flag]?.flag.environments[e.environment]?.paused;
      return changeEnvironment(set, e.flag, e.environment, e.at, e.actor, (rules, enabled) => ({
        enabled,
        rules: paused === undefined ? rules : rules.map((r) => resumed(r, paused, e.at)),
      }));
    }
    case 'flag.archived': {
      const record = set.flags[e.flag];
      return record === undefined
        ? set
        : {
            ...set,
            flags: { ...set.flags, [e.flag]: { ...record, archived: true, updatedAt: e.at, updatedBy: e.actor } },
          };
    }
    case 'segment.applied':
      return { ...set, segments: { ...set.segments, [e.segment.name]: e.segment } };
  }
}
