/**
 * A feature flag as Sluice holds it: variants of one type, and per environment a kill switch
 * and rules, first match wins (docs/flags.md). Plain data, as applied and as kept in the log.
 */

import type { Condition as RuleCondition } from '../types.ts';

/** What a flag is for; it sets how long a flag is expected to live (lifecycle.ts). */
export const FLAG_TYPES = ['release', 'experiment', 'operational', 'killSwitch', 'permission'] as const;
export type FlagType = (typeof FLAG_TYPES)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** One variant's value; every variant of a flag has the same kind. */
export type VariantValue = boolean | string | number | { [key: string]: JsonValue } | JsonValue[];
export type VariantKind = 'boolean' | 'string' | 'number' | 'object';

/**
 * Operators on one context attribute. The string ones take Unleash's names too (STR_CONTAINS …),
 * so constraints copied from Unleash read the same.
 */
export const OPERATORS = [
  'EQUALS',
  'IN',
  'NOT_IN',
  'CONTAINS',
  'STARTS_WITH',
  'ENDS_WITH',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_GTE',
  'SEMVER_LT',
  'SEMVER_LTE',
  'REGEX',
] as const;
export type Operator = (typeof OPERATORS)[number];
/** Unleash's spellings, read as ours. */
export const OPERATOR_ALIASES: Record<string, Operator> = {
  STR_CONTAINS: 'CONTAINS',
  STR_STARTS_WITH: 'STARTS_WITH',
  STR_ENDS_WITH: 'ENDS_WITH',
};
/** Operators that compare with exactly one value. */
export const SINGLE_VALUE: ReadonlySet<Operator> = new Set<Operator>([
  'EQUALS',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_GTE',
  'SEMVER_LT',
  'SEMVER_LTE',
  'REGEX',
]);

/** `attribute` of the evaluation context compared with `values`; `inverted` negates the result. */
export interface Condition {
  attribute: string;
  operator: Operator;
  values: string[];
  inverted?: boolean;
  caseInsensitive?: boolean;
}

/** Which context attribute keeps a user in one bucket: `default` is OpenFeature's targetingKey. */
export interface Rollout {
  percent: number;
  stickiness: string;
  /** Buckets are per group: flags sharing a groupId expose the same users. Default: the flag's name. */
  groupId: string;
}

/** A percentage moved over time: `from` at `start` to `to` at `end` (epoch ms), linearly. */
export interface Ramp {
  from: number;
  to: number;
  start: number;
  end: number;
  stickiness: string;
  groupId: string;
}

/** Serve variants by weight, bucketed as Unleash's variants (seed 86028157). */
export interface Split {
  weights: { variant: string; weight: number }[];
  stickiness: string;
  groupId: string;
}

export interface Rule {
  name: string;
  /** Every condition must hold. */
  when: Condition[];
  /** Names of segments (kind Segment) whose conditions must all hold too. */
  segments: string[];
  rollout?: Rollout;
  ramp?: Ramp;
  /** A variant's name, or a weighted split. */
  serve: string | Split;
}

export interface FlagEnvironment {
  /** false is the kill switch: the flag serves its off variant, whatever the rules say. */
  enabled: boolean;
  rules: Rule[];
  /**
   * Changes here are an approver's (as a release into an environment with approvals): applying
   * a change, raising exposure, enabling. Turning the flag off never needs one.
   */
  protected?: boolean;
  /**
   * Set when the flag's contract failed with `onFail: pause`: exposure frozen, no further judging,
   * until a person sets it. `rule` and `percent`: the exposing rule and the percent it froze at
   * (null: no rule with a rollout or ramp, held at what it serves); `detail`: the verdict's figures.
   */
  paused?: {
    at: number;
    trigger: string;
    detail: string;
    rule: string | null;
    percent: number | null;
    ramp?: { rule: string; ramp: Ramp };
  };
}

export interface FeatureFlag {
  name: string;
  type: FlagType;
  owner: string | null;
  description: string | null;
  variants: Record<string, VariantValue>;
  /** Served when no rule matches. */
  defaultVariant: string;
  /** Served when the flag is disabled in an environment (default: defaultVariant). */
  offVariant: string;
  environments: Record<string, FlagEnvironment>;
  /** Expected lifetime in days (null: permanent); default per type (lifecycle.ts). */
  lifetimeDays: number | null;
  /** The flag's own rollback contract, judged on per-variant counts (flags/flag-guard.ts). */
  rollbackContract?: FlagContract;
}

/**
 * A flag judged as a release is: the service whose traffic it is judged on, where the per-variant
 * evidence comes from, and the rule its served variants must keep against the off variant. A Fail
 * turns the flag off in that environment, with a rollback log.
 */
export interface FlagContract {
  service: string;
  environment: string;
  /**
   * Where the per-variant counts come from: `proxy` (absent: the default), the service's built-in
   * proxy evaluates the flag for each request from the stickiness header or cookie; `sdk`, the
   * application evaluates it (sluice/openfeature) and reports each request's outcome, so a
   * service behind HAProxy, NGINX or no router of Sluice's has a contract too.
   */
  evidence?: FlagEvidence;
  /** The proxy's stickiness (evidence proxy); empty with evidence sdk (the application's targetingKey). */
  stickiness: { header?: string; cookie?: string };
  /** Fail when a served variant's error rate is above the off variant's × times + by (sequential judge). */
  errorRate: { by: number; times: number };
  /** The judge's α (default 0.005, as releases'). */
  alpha: number;
  /** Requests each variant needs before a Pass (a Fail needs no minimum). */
  minSamples: number;
  /**
   * Latency quantile rules (latency_p50/p90/p95/p99), written as a service contract's rules and
   * judged by the same sequential latency judge, each served variant against the off variant.
   */
  latency?: FlagLatencyRule[];
  /** What a Fail does: `off` (default) turns the flag off; `pause` freezes its exposure at the percent it has then. */
  onFail?: FlagOnFail;
}

export const FLAG_LATENCY_METRICS = ['latency_p50', 'latency_p90', 'latency_p95', 'latency_p99'] as const;
export type FlagLatencyMetric = (typeof FLAG_LATENCY_METRICS)[number];

/** A latency rule of a flag's contract: a service contract's metric rule, for a latency quantile. */
export interface FlagLatencyRule {
  name: string;
  metric: FlagLatencyMetric;
  failIf: RuleCondition;
  minSamples?: number;
}

export const FLAG_EVIDENCE = ['proxy', 'sdk'] as const;
export type FlagEvidence = (typeof FLAG_EVIDENCE)[number];

export const FLAG_ON_FAIL = ['off', 'pause'] as const;
export type FlagOnFail = (typeof FLAG_ON_FAIL)[number];

/** A reusable set of conditions, referenced by rules of any flag. */
export interface Segment {
  name: string;
  description: string | null;
  conditions: Condition[];
}

export function variantKind(v: VariantValue): VariantKind {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  return 'object';
}
