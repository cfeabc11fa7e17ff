/**
 * What the spec's shape cannot say: a flag whose parts do not fit together. Each problem has
 * the path of the field in the document (from `spec`), so the spec layer gives it file:line.
 */
import { conditionProblem } from './conditions.ts';
import { variantKind, type Condition, type FeatureFlag, type Rule } from './model.ts';

export interface FlagProblem {
  path: (string | number)[];
  message: string;
}

/** Pairs of conditions on one attribute that no value satisfies (e.g. NUM_GT 10 and NUM_LT 5). */
function contradiction(cs: readonly Condition[]): string | null {
  for (const a of cs) {
    for (const b of cs) {
      if (a === b || a.attribute !== b.attribute || a.inverted || b.inverted) continue;
      const [x, y] = [Number(a.values[0]), Number(b.values[0])];
      const low = a.operator === 'NUM_GT' || a.operator === 'NUM_GTE';
      const high = b.operator === 'NUM_LT' || b.operator === 'NUM_LTE';
      if (low && high && (x > y || (x === y && (a.operator === 'NUM_GT' || b.operator === 'NUM_LT')))) {
        return `${a.attribute} ${a.operator} ${a.values[0]} and ${b.operator} ${b.values[0]} hold for no value`;
      }
      if (
        a.operator === 'DATE_AFTER' &&
        b.operator === 'DATE_BEFORE' &&
        Date.parse(a.values[0]!) >= Date.parse(b.values[0]!)
      ) {
        return `${a.attribute} after ${a.values[0]} and before ${b.values[0]} holds for no date`;
      }
      if (
        (a.operator === 'IN' || a.operator === 'EQUALS') &&
        (b.operator === 'IN' || b.operator === 'EQUALS') &&
        !a.caseInsensitive &&
        !b.caseInsensitive &&
        !a.values.some((v) => b.values.includes(v))
      ) {
        return `${a.attribute} in [${a.values.join(', ')}] and in [${b.values.join(', ')}] holds for no value`;
      }
    }
  }
  return null;
}

/** Whether a rule serves everyone who reaches it (nothing after it can match). */
function catchesAll(r: Rule): boolean {
  return r.when.length === 0 && r.segments.length === 0 && r.ramp === undefined && (r.rollout?.percent ?? 100) >= 100;
}

function ruleProblems(
  flag: FeatureFlag,
  r: Rule,
  at: (string | number)[],
  segments: ReadonlySet<string> | null,
): FlagProblem[] {
  const out: FlagProblem[] = [];
  const variant = (name: string, path: (string | number)[]) => {
    if (!(name in flag.variants))
      out.push({
        path,
        message: `serves "${name}", which is not a variant; valid: ${Object.keys(flag.variants).join(', ')}`,
      });
  };
  r.when.forEach((c, i) => {
    const p = conditionProblem(c);
    if (p !== null) out.push({ path: [...at, 'when', i], message: p });
  });
  const never = contradiction(r.when);
  if (never !== null) out.push({ path: [...at, 'when'], message: `rule "${r.name}" can never match: ${never}` });
  if (segments !== null) {
    r.segments.forEach((s, i) => {
      if (!segments.has(s))
        out.push({
          path: [...at, 'segments', i],
          message: `no segment "${s}"; known: ${[...segments].join(', ') || 'none (apply a kind: Segment first)'}`,
        });
    });
  }
  if (r.rollout !== undefined && r.ramp !== undefined)
    out.push({ path: [...at, 'ramp'], message: 'a rule has a rollout or a ramp, not both' });
  if (r.rollout?.percent === 0)
    out.push({
      path: [...at, 'rollout', 'percent'],
      message: `rule "${r.name}" can never match at 0%: raise the percent, or remove the rule (sluice flag set changes the percent later)`,
    });
  if (r.ramp !== undefined && r.ramp.end <= r.ramp.start)
    out.push({
      path: [...at, 'ramp', 'end'],
      message: `the ramp ends (${new Date(r.ramp.end).toISOString()}) before it starts (${new Date(r.ramp.start).toISOString()}); end must be after start`,
    });
  if (typeof r.serve === 'string') variant(r.serve, [...at, 'serve']);
  else {
    r.serve.weights.forEach((w) => variant(w.variant, [...at, 'serve', 'split', w.variant]));
    if (r.serve.weights.every((w) => w.weight === 0))
      out.push({
        path: [...at, 'serve', 'split'],
        message: 'a split needs at least one variant with a weight above 0',
      });
  }
  return out;
}

/** Every problem of `flag`; `segments`: the names a rule may use (null: not checked here). */
export function flagProblems(flag: FeatureFlag, segments: ReadonlySet<string> | null): FlagProblem[] {
  const out: FlagProblem[] = [];
  const names = Object.keys(flag.variants);
  if (names.length === 0) out.push({ path: ['variants'], message: 'a flag needs at least one variant' });
  const kinds = new Map<string, string[]>();
  for (const [n, v] of Object.entries(flag.variants))
    kinds.set(variantKind(v), [...(kinds.get(variantKind(v)) ?? []), n]);
  if (kinds.size > 1) {
    out.push({
      path: ['variants'],
      message: `variants are all of one type; these mix ${[...kinds].map(([k, ns]) => `${k} (${ns.join(', ')})`).join(' and ')}`,
    });
  }
  if (!(flag.defaultVariant in flag.variants))
    out.push({
      path: ['defaultVariant'],
      message: `defaultVariant "${flag.defaultVariant}" is not a variant; valid: ${names.join(', ')}`,
    });
  if (!(flag.offVariant in flag.variants))
    out.push({
      path: ['offVariant'],
      message: `offVariant "${flag.offVariant}" is not a variant; valid: ${names.join(', ')}`,
    });
  const c = flag.rollbackContract;
  if (c !== undefined && flag.environments[c.environment] === undefined) {
    out.push({
      path: ['rollbackContract', 'environment'],
      message: `the contract watches ${c.environment}, which the flag does not have; it has ${Object.keys(flag.environments).join(', ') || 'none'}`,
    });
  }
  if (c?.latency !== undefined && c.latency.length > 0 && names.every((n) => n === flag.offVariant))
    out.push({
      path: ['rollbackContract', 'latency'],
      message: `a latency rule compares a served variant with the off variant "${flag.offVariant}", and the flag has no other variant; add one to variants`,
    });
  for (const [env, e] of Object.entries(flag.environments)) {
    let reachable = true;
    e.rules.forEach((r, i) => {
      const at = ['environments', env, 'rules', i];
      if (!reachable)
        out.push({
          path: [...at, 'name'],
          message: `rule "${r.name}" can never match: an earlier rule serves everyone (no conditions, 100%); move it before that rule or remove it`,
        });
      out.push(...ruleProblems(flag, r, at, segments));
      if (catchesAll(r)) reachable = false;
    });
    const seen = new Set<string>();
    e.rules.forEach((r, i) => {
      if (seen.has(r.name))
        out.push({
          path: ['environments', env, 'rules', i, 'name'],
          message: `two rules named "${r.name}" in ${env}: rule names are unique (sluice flag set names a rule)`,
        });
      seen.add(r.name);
    });
  }
  return out;
}
