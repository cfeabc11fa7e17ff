/** `spec.rollbackContract`: the explicit thresholds a release is held to, normalised to core types. */
import { z } from 'zod';
import { METRICS, type Condition, type MetricName, type RollbackContract, type Rule } from '../core/types.ts';
import { duration, parseDuration } from '../core/units.ts';
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
});
type FailIf = z.output<typeof failIf>;

const count = (min: number) => z.number().int().min(min);

const ruleSchema = strictObject({
  name: z.string().min(1).optional().describe('Unique rule name; defaults to the metric'),
  metric: z.enum(METRICS, {
    error: (iss) =>
      iss.input === undefined ? undefined : `unknown metric ${JSON.stringify(iss.input)}; valid metrics: ${METRICS.join(', ')}`,
  }),
  failIf,
  minSamples: count(1).optional(),
  consecutive: count(1).optional(),
  failureLimit: count(0).nullable().optional(),
}).transform((raw, ctx) => {
  const condition = toCondition(raw.metric, raw.failIf, ctx);
  if (!condition) return z.NEVER;
  const rule: Omit<Rule, 'name'> & { name?: string } = { metric: raw.metric, failIf: condition };
  if (raw.name !== undefined) rule.name = raw.name;
  if (raw.minSamples !== undefined) rule.minSamples = raw.minSamples;
  if (raw.consecutive !== undefined) rule.consecutive = raw.consecutive;
  if (raw.failureLimit !== undefined) rule.failureLimit = raw.failureLimit;
  return rule;
});
type NamelessRule = z.output<typeof ruleSchema>;

function toCondition(metric: MetricName, raw: FailIf, ctx: z.RefinementCtx): Condition | null {
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
        message: 'baseline needs a threshold: add by: … (a margin, e.g. by: 0.01) or times: … (a factor, e.g. times: 2)',
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
function amount(metric: MetricName, value: number | string, key: string, ctx: z.RefinementCtx): number | null {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', path: ['failIf', key], message });
    return null;
  };
  const latency = metric.startsWith('latency_');
  if (typeof value === 'string') {
    const ms = latency ? parseDuration(value) : null;
    if (ms !== null) return ms;
    const valid = latency ? 'a duration such as 500ms or 2s, or a number of ms' : unitOf(metric);
    return fail(`${JSON.stringify(value)} is not valid for ${metric}: write ${key === 'by' ? '' : 'baseline or '}${valid}`);
  }
  if (value < 0) return fail(`must be 0 or more, got ${value}`);
  if (metric === 'error_rate' && value > 1) return fail(`error_rate is a fraction 0..1 (0.05 = 5%), got ${value}`);
  return value;
}

function unitOf(metric: MetricName): string {
  if (metric === 'error_rate') return 'a fraction 0..1 (e.g. 0.05 for 5%)';
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
    else ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate rule name "${rule.name}" (first at rules[${first}])` });
  });
}

/** Unnamed rules take their metric's name, suffixed #2, #3 … when it is already taken. */
function nameRules(rules: NamelessRule[]): Rule[] {
  const taken = new Set(rules.flatMap((rule) => (rule.name === undefined ? [] : [rule.name])));
  return rules.map(({ name: explicit, ...rule }) => {
    if (explicit !== undefined) return { name: explicit, ...rule };
    let name: string = rule.metric;
    for (let n = 2; taken.has(name); n++) name = `${rule.metric}#${n}`;
    taken.add(name);
    return { name, ...rule };
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
    maxInconclusive: positiveDuration.prefault('5m').describe('Inconclusive this long pauses the release'),
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
  .transform(
    (raw): RollbackContract => ({
      intervalMs: raw.interval,
      windowMs: raw.window,
      minSamples: raw.minSamples,
      consecutive: raw.consecutive,
      failureLimit: raw.failureLimit,
      maxInconclusiveMs: raw.maxInconclusive,
      rules: raw.rules,
    }),
  )
  .describe('The thresholds the release is held to; a failed rule rolls it back');
