/**
 * One flag's evaluation for a context: the same code on the server (OFREP), in the built-in proxy
 * and in the in-process provider. A flag is compiled once per change of the flag set (conditions
 * read, segments inlined); evaluating it then allocates only its result.
 */
import { compileConditions, type EvaluationContext, type Predicate } from './conditions.ts';
import { inRollout, pickWeighted } from './bucket.ts';
import type { FeatureFlag, Rule, Segment, VariantValue } from './model.ts';
import { rampPercent } from './ramp.ts';

/** OFREP's reasons (a subset of OpenFeature's). */
export type Reason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'DEFAULT' | 'ERROR';

export interface Resolution {
  key: string;
  variant: string;
  value: VariantValue;
  reason: Reason;
  /** The rule that matched, if any. */
  rule: string | null;
}

interface CompiledRule {
  name: string;
  match: Predicate | null;
  /** Null: everyone who matches. */
  percent: ((now: number) => number) | null;
  stickiness: string;
  groupId: string;
  serve: Rule['serve'];
}

/** A flag ready to evaluate in one environment. */
export interface CompiledFlag {
  key: string;
  enabled: boolean;
  variants: Record<string, VariantValue>;
  defaultVariant: string;
  offVariant: string;
  rules: CompiledRule[];
}

/** The value that keeps a user in one bucket; `default` is the targetingKey. */
function stickinessValue(ctx: EvaluationContext, stickiness: string): string | undefined {
  const v = ctx[stickiness === 'default' ? 'targetingKey' : stickiness];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/**
 * `flag` in `environment`. A flag without the environment is disabled there. Segments are
 * inlined: a rule naming a segment absent from `segments` never matches (apply refuses that).
 */
export function compileFlag(
  flag: FeatureFlag,
  environment: string,
  segments: ReadonlyMap<string, Segment>,
): CompiledFlag {
  const env = flag.environments[environment];
  const rules = (env?.rules ?? []).map((r): CompiledRule => {
    const missing = r.segments.some((s) => !segments.has(s));
    const conditions = [...r.when, ...r.segments.flatMap((s) => segments.get(s)?.conditions ?? [])];
    const match = missing ? () => false : compileConditions(conditions);
    const ramp = r.ramp;
    const percent =
      ramp !== undefined
        ? (now: number) => rampPercent(ramp, now)
        : r.rollout !== undefined && r.rollout.percent < 100
          ? (
              (p: number) => () =>
                p
            )(r.rollout.percent)
          : null;
    const sticky = ramp ?? r.rollout;
    return {
      name: r.name,
      match,
      percent,
      stickiness: sticky?.stickiness ?? 'default',
      groupId: sticky?.groupId ?? flag.name,
      serve: r.serve,
    };
  });
  return {
    key: flag.name,
    enabled: env?.enabled ?? false,
    variants: flag.variants,
    defaultVariant: flag.defaultVariant,
    offVariant: flag.offVariant,
    rules,
  };
}

function resolved(flag: CompiledFlag, variant: string, reason: Reason, rule: string | null): Resolution {
  return { key: flag.key, variant, value: flag.variants[variant]!, reason, rule };
}

/** The variant `ctx` gets at `now`. */
export function evaluate(flag: CompiledFlag, ctx: EvaluationContext, now: number): Resolution {
  if (!flag.enabled) return resolved(flag, flag.offVariant, 'DISABLED', null);
  if (flag.rules.length === 0) return resolved(flag, flag.defaultVariant, 'STATIC', null);
  for (const r of flag.rules) {
    if (r.match !== null && !r.match(ctx, now)) continue;
    if (r.percent !== null) {
      const p = r.percent(now);
      if (p < 100) {
        const v = stickinessValue(ctx, r.stickiness);
        if (v === undefined || !inRollout(r.groupId, v, p)) continue;
      }
    }
    if (typeof r.serve === 'string') return resolved(flag, r.serve, 'TARGETING_MATCH', r.name);
    const v = stickinessValue(ctx, r.serve.stickiness);
    const picked = v === undefined ? r.serve.weights[0]?.variant : pickWeighted(r.serve.groupId, v, r.serve.weights);
    if (picked !== undefined && picked !== null) return resolved(flag, picked, 'SPLIT', r.name);
  }
  return resolved(flag, flag.defaultVariant, 'DEFAULT', null);
}
