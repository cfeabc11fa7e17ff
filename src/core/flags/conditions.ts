/**
 * Conditions compiled once into predicates on an evaluation context, so a flag's evaluation does
 * no parsing (the regex, the numbers, the dates and the versions are read when the flag set is).
 * Semantics as Unleash's constraints: a missing attribute matches only NOT_IN; a value that
 * cannot be read as a number, date or version does not match; `inverted` negates the result.
 */
import type { Condition } from './model.ts';
import { compareSemver, parseSemver } from './semver.ts';

/** OpenFeature's evaluation context: `targetingKey` and any attributes. */
export type EvaluationContext = Record<string, unknown>;
export type Predicate = (ctx: EvaluationContext, now: number) => boolean;

/** The attribute as text (strings, numbers, booleans), or undefined. */
export function attributeText(ctx: EvaluationContext, attribute: string): string | undefined {
  const v = ctx[attribute];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  return undefined;
}

function compare(op: string, c: number): boolean {
  switch (op) {
    case 'EQ':
      return c === 0;
    case 'GT':
      return c > 0;
    case 'GTE':
      return c >= 0;
    case 'LT':
      return c < 0;
    default:
      return c <= 0;
  }
}

/** `test` on the (folded) text against any of `values`, without a closure per call. */
function anyOf(
  values: string[],
  fold: (s: string) => string,
  test: (t: string, v: string) => boolean,
): (text: string) => boolean {
  if (values.length === 1) {
    const only = values[0]!;
    return (t) => test(fold(t), only);
  }
  return (t) => {
    const f = fold(t);
    for (const v of values) if (test(f, v)) return true;
    return false;
  };
}

/** The test on the attribute's text, for a present attribute. */
function test(c: Condition): (text: string, now: number) => boolean {
  const fold = c.caseInsensitive ? (s: string) => s.toLowerCase() : (s: string) => s;
  const values = c.values.map(fold);
  const first = c.values[0] ?? '';
  switch (c.operator) {
    case 'EQUALS':
      return (t) => fold(t) === values[0];
    case 'IN': {
      const set = new Set(values);
      return (t) => set.has(fold(t));
    }
    case 'NOT_IN': {
      const set = new Set(values);
      return (t) => !set.has(fold(t));
    }
    case 'CONTAINS':
      return anyOf(values, fold, (t, v) => t.includes(v));
    case 'STARTS_WITH':
      return anyOf(values, fold, (t, v) => t.startsWith(v));
    case 'ENDS_WITH':
      return anyOf(values, fold, (t, v) => t.endsWith(v));
    case 'NUM_EQ':
    case 'NUM_GT':
    case 'NUM_GTE':
    case 'NUM_LT':
    case 'NUM_LTE': {
      const want = Number(first);
      const op = c.operator.slice(4);
      return (t) => {
        const n = t === '' ? NaN : Number(t);
        return !Number.isNaN(n) && compare(op, n - want);
      };
    }
    case 'DATE_AFTER':
    case 'DATE_BEFORE': {
      const want = Date.parse(first);
      const after = c.operator === 'DATE_AFTER';
      return (t) => {
        const at = Date.parse(t);
        return !Number.isNaN(at) && (after ? at > want : at < want);
      };
    }
    case 'SEMVER_EQ':
    case 'SEMVER_GT':
    case 'SEMVER_GTE':
    case 'SEMVER_LT':
    case 'SEMVER_LTE': {
      const want = parseSemver(first);
      const op = c.operator.slice(7);
      // Applications send few distinct versions: each is parsed once (a bounded cache).
      const parsed = new Map<string, ReturnType<typeof parseSemver>>();
      return (t) => {
        let v = parsed.get(t);
        if (v === undefined) {
          v = parseSemver(t);
          if (parsed.size >= 256) parsed.clear();
          parsed.set(t, v);
        }
        return v !== null && want !== null && compare(op, compareSemver(v, want));
      };
    }
    case 'REGEX': {
      const re = new RegExp(first, c.caseInsensitive ? 'i' : '');
      return (t) => re.test(t);
    }
  }
}

/** One condition as a predicate. Dates compare with `now` when the context has no `currentTime`. */
export function compileCondition(c: Condition): Predicate {
  const onText = test(c);
  const missing = c.operator === 'NOT_IN';
  const inverted = c.inverted === true;
  const isDate = c.operator === 'DATE_AFTER' || c.operator === 'DATE_BEFORE';
  return (ctx, now) => {
    let text = attributeText(ctx, c.attribute);
    if (text === undefined && isDate && c.attribute === 'currentTime') text = new Date(now).toISOString();
    const result = text === undefined ? missing : onText(text, now);
    return inverted ? !result : result;
  };
}

/** All conditions must hold (none: always). */
export function compileConditions(cs: readonly Condition[]): Predicate | null {
  if (cs.length === 0) return null;
  const ps = cs.map(compileCondition);
  if (ps.length === 1) return ps[0]!;
  return (ctx, now) => {
    for (const p of ps) if (!p(ctx, now)) return false;
    return true;
  };
}

/** Why a condition can never be evaluated as written (null: it can). Checked at apply. */
export function conditionProblem(c: Condition): string | null {
  const one = c.values[0] ?? '';
  if (c.values.length === 0) return `${c.operator} needs at least one value`;
  if (c.operator.startsWith('NUM_') && (one.trim() === '' || Number.isNaN(Number(one))))
    return `${c.operator} compares numbers; "${one}" is not a number`;
  if (c.operator.startsWith('DATE_') && Number.isNaN(Date.parse(one)))
    return `${c.operator} compares dates; "${one}" is not a date (write ISO 8601, e.g. 2026-01-31T12:00:00Z)`;
  if (c.operator.startsWith('SEMVER_') && parseSemver(one) === null)
    return `${c.operator} compares semantic versions; "${one}" is not one (write e.g. 1.2.3 or 2.0.0-rc.1, without "v")`;
  if (c.operator === 'REGEX') {
    try {
      new RegExp(one);
    } catch (err) {
      return `REGEX "${one}" is not a valid regular expression: ${(err as Error).message}`;
    }
  }
  return null;
}
