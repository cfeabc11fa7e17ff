/** `spec.rollbackContract`: the explicit thresholds a release is held to, normalised to core types. */
import { z } from 'zod';
import {
  DEFAULT_ERRORS,
  LIVE_JUDGES,
  METRICS,
  SEQUENTIAL_METRICS,
  STATUS_CLASS,
  type BurnWindow,
  type Condition,
  type RollbackContract,
  type Rule,
  type RuleMetric,
} from '../core/types.ts';
import { duration, parseDuration } from '../core/units.ts';
import { rollbackModeFields } from './strategy-schema.ts';
import { strictObject } from './strict-object.ts';

const reference = z
  .union([z.number(), z.string()], { error: 'write baseline, a number or a duration such as 500ms' })
  .optional();

const failIf = strictObject({
  above: reference.describe('Fail when the canary is above this: baseline, a number, or a duration for latency'),
  below: reference.describe('Fail when the canary is below this: baseline, a number, or a duration for latency'),
  by: z
    .union([z.number(), z.string()], { error: 'write a number, or a duration such as 500ms for latency' })
    .optional()
    .describe('With baseline: allowed margin over the baseline'),
  times: z.number().positive().optional().describe('With baseline: allowed factor of the baseline'),
  count: z.number().int().min(1).optional().describe('Signal rules: fail at this many signals …'),
  within: duration.optional().describe('Signal rules: … received within this long'),
});
type FailIf = z.output<typeof failIf>;

const count = (min: number) => z.number().int().min(min);

/** A fraction 0..1 written as 0.999 or "99.9%". */
const fraction = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n =
    typeof v === 'number'
      ? v
      : /^\s*[\d.]+\s*%\s*$/.test(v)
        ? Number((Number.parseFloat(v) / 100).toPrecision(12))
        : Number.NaN;
  if (Number.isFinite(n) && n > 0 && n < 1) return n;
  ctx.addIssue({
    code: 'custom',
    message: `write the objective as a percentage such as "99.9%" or a fraction such as 0.999, got ${JSON.stringify(v)}`,
  });
  return z.NEVER;
});

const burnRate = strictObject({
  objective: fraction.describe('The SLO, e.g. "99.9%"'),
  windows: z
    .array(
      strictObject({
        long: duration.describe('Long window, e.g. 1h'),
        short: duration.describe('Short window, e.g. 5m (about 1/12 of long)'),
        factor: z.number().positive().describe('Burn rate that fails the rule over both windows, e.g. 14.4'),
      }),
    )
    .min(1, 'needs at least one window pair such as { long: 1h, short: 5m, factor: 14.4 }'),
});

const KINDS = ['metric', 'query', 'burnRate', 'signal'] as const;

/** One rule of a contract, unnamed (the service contract's, and a flag contract's latency rules). */
export const ruleSchema = strictObject({
  name: z.string().min(1).optional().describe('Unique rule name; defaults to the metric'),
  metric: z
    .enum(METRICS, {
      error: (iss) =>
        iss.input === undefined
          ? undefined
          : `unknown metric ${JSON.stringify(iss.input)}; valid metrics: ${METRICS.join(', ')}`,
    })
    .optional()
    .describe('A request metric measured by the data plane'),
  query: z
    .string()
    .min(1)
    .optional()
    .describe('A metrics-provider query (PromQL …) with ${version}, ${service}, ${window}'),
  burnRate: burnRate.optional().describe('Error-budget burn rate of the canary over window pairs'),
  signal: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]*$/, 'a signal name: lowercase letters, digits, _ . -')
    .optional()
    .describe('An external signal posted to the API'),
  failIf: failIf.optional(),
  errors: z
    .array(
      z.union([z.string(), z.number()]).transform((v, ctx) => {
        const text = String(v).trim().toLowerCase();
        if (STATUS_CLASS.test(text)) return text;
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(v)} is not a status class; write 5xx, 4xx … (a class), 404, 429 … (one status) or connect (no answer)`,
        });
        return z.NEVER;
      }),
    )
    .min(1, 'errors must name at least one status class, e.g. [5xx, connect]')
    .optional()
    .describe(
      'error_rate and success_rate: the answers that count as errors (default 5xx and connect for error_rate, also 4xx for success_rate)',
    ),
  judge: z
    .enum(LIVE_JUDGES, {
      error: (iss) => `unknown judge ${JSON.stringify(iss.input)}; valid: ${LIVE_JUDGES.join(', ')}`,
    })
    .optional()
    .describe(
      `Metric rules: sequential (default for ${SEQUENTIAL_METRICS.join(', ')}), threshold, or mannWhitney (Kayenta's test)`,
    ),
  minSamples: count(1).optional(),
  consecutive: count(1).optional(),
  failureLimit: count(0).nullable().optional(),
}).transform((raw, ctx) => {
  const kinds = KINDS.filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) {
    const message =
      kinds.length === 0
        ? 'a rule needs one of metric, query, burnRate or signal'
        : `a rule watches one thing: ${kinds.join(' and ')} cannot be combined`;
    ctx.addIssue({ code: 'custom', path: kinds.length === 0 ? [] : [kinds[1]!], message });
    return z.NEVER;
  }
  const common: { name?: string; minSamples?: number; consecutive?: number; failureLimit?: number | null } = {};
  if (raw.name !== undefined) common.name = raw.name;
  if (raw.minSamples !== undefined) common.minSamples = raw.minSamples;
  if (raw.consecutive !== undefined) common.consecutive = raw.consecutive;
  if (raw.failureLimit !== undefined) common.failureLimit = raw.failureLimit;
  if (raw.burnRate !== undefined) {
    if (raw.failIf !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['failIf'],
        message: 'a burnRate rule fails on its window factors; remove failIf',
      });
      return z.NEVER;
    }
    const windows: BurnWindow[] = raw.burnRate.windows.map((w) => ({
      longMs: w.long,
      shortMs: w.short,
      factor: w.factor,
    }));
    return { ...common, metric: 'burn_rate' as const, objective: raw.burnRate.objective, windows };
  }
  if (raw.signal !== undefined) {
    const f = raw.failIf;
    if (f?.count === undefined || f.within === undefined || Object.keys(f).length !== 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['failIf'],
        message: 'a signal rule needs failIf: { count: N, within: 10m } and nothing else',
      });
      return z.NEVER;
    }
    return { ...common, metric: 'signal' as const, signal: raw.signal, count: f.count, withinMs: f.within };
  }
  const metric: RuleMetric = raw.query !== undefined ? 'query' : raw.metric!;
  if (raw.failIf === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['failIf'],
      message: 'required field is missing: write failIf: { above: … } or { below: … }',
    });
    return z.NEVER;
  }
  const condition = toCondition(metric, raw.failIf, ctx);
  if (!condition) return z.NEVER;
  if (raw.judge !== undefined && raw.metric === undefined) {
    ctx.addIssue({ code: 'custom', path: ['judge'], message: 'judge is for metric rules (error_rate, latency_p95 …)' });
    return z.NEVER;
  }
  if (raw.errors !== undefined && DEFAULT_ERRORS[raw.metric ?? 'request_rate'] === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['errors'],
      message: `errors is for error_rate and success_rate rules, not ${raw.query !== undefined ? 'query' : raw.metric}`,
    });
    return z.NEVER;
  }
  if (raw.query !== undefined) return { ...common, metric: 'query' as const, query: raw.query, failIf: condition };
  const sequentialOk = SEQUENTIAL_METRICS.includes(raw.metric!);
  if (raw.judge === 'sequential' && !sequentialOk) {
    ctx.addIssue({
      code: 'custom',
      path: ['judge'],
      message: `the sequential judge tests ${SEQUENTIAL_METRICS.join(', ')}; use judge: threshold for ${raw.metric}`,
    });
    return z.NEVER;
  }
  if (raw.judge === 'mannWhitney') {
    const problem = ![...SEQUENTIAL_METRICS, 'latency_mean'].includes(raw.metric!)
      ? `the mannWhitney judge compares per-interval values of error_rate or latency, not ${raw.metric}`
      : condition.reference !== 'baseline' || condition.by !== undefined
        ? 'the mannWhitney judge compares the canary with the baseline as a ratio: write failIf: { above: baseline, times: 1.1 } (10% allowed) or times: 1'
        : null;
    if (problem !== null) {
      ctx.addIssue({ code: 'custom', path: ['judge'], message: problem });
      return z.NEVER;
    }
  }
  const errors = raw.errors === undefined ? {} : { errors: [...new Set(raw.errors)] };
  return {
    ...common,
    metric: raw.metric!,
    failIf: condition,
    ...errors,
    judge: raw.judge ?? (sequentialOk ? 'sequential' : 'threshold'),
  };
});
export type NamelessRule = z.output<typeof ruleSchema>;

function toCondition(metric: RuleMetric, raw: FailIf, ctx: z.RefinementCtx): Condition | null {
  for (const key of ['count', 'within'] as const) {
    if (raw[key] === undefined) continue;
    ctx.addIssue({
      code: 'custom',
      path: ['failIf', key],
      message: `${key} is for signal rules; this rule takes above or below`,
    });
    return null;
  }
  const given = (['above', 'below'] as const).flatMap((op) => (raw[op] === undefined ? [] : [{ op, at: raw[op] }]));
  const [chosen] = given;
  if (chosen === undefined || given.length > 1) {
    const message = chosen ? 'failIf takes one of above or below, not both' : 'failIf needs above: … or below: …';
    ctx.addIssue({ code: 'custom', path: ['failIf'], message });
    return null;
  }
  const { op, at } = chosen;
  if (at === 'baseline') {
    if (raw.by === undefined && raw.times === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['failIf', op],
        message:
          'baseline needs a threshold: add by: … (a margin, e.g. by: 0.01) or times: … (a factor, e.g. times: 2)',
      });
      return null;
    }
    const condition: Condition = { op, reference: 'baseline' };
    if (raw.times !== undefined) condition.times = raw.times;
    if (raw.by === undefined) return condition;
    const by = amount(metric, raw.by, 'by', ctx);
    if (by === null) return null;
    condition.by = by;
    return condition;
  }
  for (const key of ['by', 'times'] as const) {
    if (raw[key] === undefined) continue;
    const message = `${key} is only for comparisons with the baseline (${op}: baseline); a fixed threshold is the ${op} value itself`;
    ctx.addIssue({ code: 'custom', path: ['failIf', key], message });
    return null;
  }
  const value = amount(metric, at, op, ctx);
  return value === null ? null : { op, reference: value };
}

/** A threshold in the metric's unit: ms for latency (numbers or durations), 0..1 for error_rate. */
function amount(metric: RuleMetric, value: number | string, key: string, ctx: z.RefinementCtx): number | null {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', path: ['failIf', key], message });
    return null;
  };
  const latency = metric.startsWith('latency_');
  if (typeof value === 'string') {
    const ms = latency ? parseDuration(value) : null;
    if (ms !== null) return ms;
    const valid = latency ? 'a duration such as 500ms or 2s, or a number of ms' : unitOf(metric);
    return fail(
      `${JSON.stringify(value)} is not valid for ${metric}: write ${key === 'by' ? '' : 'baseline or '}${valid}`,
    );
  }
  if (value < 0) return fail(`must be 0 or more, got ${value}`);
  if ((metric === 'error_rate' || metric === 'success_rate') && value > 1)
    return fail(`${metric} is a fraction 0..1 (0.05 = 5%), got ${value}`);
  return value;
}

function unitOf(metric: RuleMetric): string {
  if (metric === 'error_rate') return 'a fraction 0..1 (e.g. 0.05 for 5%)';
  if (metric === 'success_rate') return 'a fraction 0..1 (e.g. 0.99 for 99%)';
  if (metric === 'request_rate') return 'a number of requests per second';
  return 'a number';
}

/** Explicit names must be unique; checked even when another rule is invalid. */
function checkExplicitNames(rules: unknown, ctx: z.RefinementCtx): void {
  if (!Array.isArray(rules)) return;
  const seen = new Map<string, number>();
  rules.forEach((rule: { name?: unknown } | undefined, index) => {
    if (typeof rule?.name !== 'string') return;
    const first = seen.get(rule.name);
    if (first === undefined) seen.set(rule.name, index);
    else
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `duplicate rule name "${rule.name}" (first at rules[${first}])`,
      });
  });
}

/** Unnamed rules take their metric's name, suffixed #2, #3 … when it is already taken. */
export function nameRules(rules: NamelessRule[]): Rule[] {
  const taken = new Set(rules.flatMap((rule) => (rule.name === undefined ? [] : [rule.name])));
  return rules.map(({ name: explicit, ...rule }) => {
    if (explicit !== undefined) return { name: explicit, ...rule } as Rule;
    const base = rule.metric === 'signal' ? rule.signal : rule.metric;
    let name: string = base;
    for (let n = 2; taken.has(name); n++) name = `${base}#${n}`;
    taken.add(name);
    return { name, ...rule } as Rule;
  });
}

const positiveDuration = duration.refine((ms) => ms > 0, 'must be longer than 0');

export const rollbackContractSchema = strictObject(
  {
    interval: positiveDuration.prefault('1s').describe('How often each rule is evaluated'),
    window: positiveDuration.prefault('30s').describe('Sliding window each evaluation measures'),
    minSamples: count(1).default(50).describe('Requests needed in the window for a verdict'),
    consecutive: count(1).default(1).describe('Fail verdicts in a row that trigger a rollback'),
    failureLimit: count(0).nullable().default(null).describe('Fail verdicts in total that trigger a rollback'),
    maxInconclusive: positiveDuration.prefault('10m').describe('A step without evidence this long pauses the release'),
    expectedRps: z
      .number({ error: 'write the requests per second the service receives, e.g. 40' })
      .positive()
      .optional()
      .describe('Requests per second the service receives: lint says whether each step can reach evidence in time'),
    metricsErrors: strictObject({
      limit: count(1).default(3).describe('Evaluations in a row with a metrics provider error …'),
      action: z
        .enum(['pause', 'rollback'])
        .default('pause')
        .describe('… that pause the release (default) or roll it back'),
    })
      .prefault({})
      .describe('What a failing metrics provider leads to'),
    ...rollbackModeFields,
    rules: z
      .array(ruleSchema)
      .min(1, 'rules must not be empty: a release needs at least one rule')
      .superRefine(checkExplicitNames, { when: () => true })
      .transform(nameRules),
  },
  (input) =>
    input === undefined
      ? 'is required: a release needs explicit rollback thresholds (add rollbackContract with rules)'
      : undefined,
)
  .transform((raw): RollbackContract => ({
    intervalMs: raw.interval,
    windowMs: raw.window,
    minSamples: raw.minSamples,
    consecutive: raw.consecutive,
    failureLimit: raw.failureLimit,
    maxInconclusiveMs: raw.maxInconclusive,
    ...(raw.expectedRps === undefined ? {} : { expectedRps: raw.expectedRps }),
    metricsErrors: raw.metricsErrors,
    onFail: raw.onFail,
    revert: raw.revert,
    rules: raw.rules,
  }))
  .describe('The thresholds the release is held to; a failed rule rolls it back');
