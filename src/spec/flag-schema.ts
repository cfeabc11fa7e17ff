/**
 * `kind: FeatureFlag` and `kind: Segment` (docs/flags.md): the shape here, the fit of the parts
 * (variants of one type, a default that is a variant, rules that can match …) in
 * core/flags/validate.ts, both reported with the field's file:line.
 */
import { z } from 'zod';
import {
  FLAG_LATENCY_METRICS,
  FLAG_EVIDENCE,
  FLAG_ON_FAIL,
  FLAG_TYPES,
  type FlagLatencyMetric,
  type FlagLatencyRule,
  OPERATOR_ALIASES,
  OPERATORS,
  type Condition,
  type FeatureFlag,
  type Operator,
  type Rule,
  type Segment,
} from '../core/flags/model.ts';
import { EXPECTED_LIFETIME_DAYS } from '../core/flags/lifecycle.ts';
import { flagProblems } from '../core/flags/validate.ts';
import { nameRules, ruleSchema as contractRuleSchema } from './contract-schema.ts';
import { didYouMean } from './did-you-mean.ts';

/** A flag's key, as OFREP and the header `x-sluice-flag-<key>` carry it. */
export const FLAG_KEY = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const key = (what: string) =>
  z
    .string()
    .regex(
      FLAG_KEY,
      `a ${what} name is 1-128 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
const percent = z.number().min(0, 'a percent is 0 to 100').max(100, 'a percent is 0 to 100');
const instant = z
  .string()
  .refine(
    (s) => /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(s) && Number.isFinite(Date.parse(s)),
    'an instant with its offset, e.g. 2026-11-26T09:00:00Z',
  );
const VALID_OPERATORS = [...OPERATORS, ...Object.keys(OPERATOR_ALIASES)];
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const operator = z.string().transform((o, ctx): Operator => {
  const known = (OPERATORS as readonly string[]).includes(o) ? (o as Operator) : OPERATOR_ALIASES[o];
  if (known !== undefined) return known;
  ctx.addIssue({
    code: 'custom',
    message: `unknown operator "${o}"${didYouMean(o, VALID_OPERATORS)}; valid: ${OPERATORS.join(', ')} (and Unleash's STR_CONTAINS, STR_STARTS_WITH, STR_ENDS_WITH)`,
  });
  return z.NEVER;
});

export const conditionSchema = z
  .strictObject({
    attribute: z.string().min(1, 'name the context attribute, e.g. email or targetingKey'),
    operator,
    values: z.array(scalar).optional(),
    value: scalar.optional(),
    inverted: z.boolean().optional(),
    caseInsensitive: z.boolean().optional(),
  })
  .transform((c, ctx): Condition => {
    const values = c.values ?? (c.value === undefined ? [] : [c.value]);
    if (values.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `${c.operator} needs values: [...] (or value: for one)`,
      });
    if (
      (values.length > 1 && ['EQUALS', 'REGEX'].includes(c.operator)) ||
      (values.length > 1 && /^(NUM|DATE|SEMVER)_/.test(c.operator))
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `${c.operator} compares with one value; given ${values.length} (use IN for a list)`,
      });
    }
    return {
      attribute: c.attribute,
      operator: c.operator,
      values,
      ...(c.inverted && { inverted: true }),
      ...(c.caseInsensitive && { caseInsensitive: true }),
    };
  });

const sticky = { stickiness: z.string().min(1).default('default'), groupId: key('group').optional() };

const ruleSchema = z.strictObject({
  name: key('rule'),
  when: z.array(conditionSchema).default([]),
  segments: z.array(key('segment')).default([]),
  rollout: z.strictObject({ percent, ...sticky }).optional(),
  ramp: z
    .strictObject({ from: percent.default(0), to: percent.default(100), start: instant, end: instant, ...sticky })
    .optional(),
  serve: z.union(
    [
      z.string().min(1),
      z.strictObject({
        split: z.record(z.string(), z.number().int('a weight is a whole number').min(0, 'a weight is 0 or more')),
        ...sticky,
      }),
    ],
    { error: () => "serve is a variant's name, or { split: { <variant>: <weight>, … } }" },
  ),
});

const environmentSchema = z.strictObject({
  enabled: z.boolean().default(true),
  protected: z.boolean().optional(),
  rules: z.array(ruleSchema).default([]),
});

const contractSchema = z
  .strictObject({
    service: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, 'the service whose traffic the flag is judged on (a service name)'),
    environment: key('environment'),
    evidence: z
      .enum(FLAG_EVIDENCE, {
        error: (iss) =>
          `evidence is proxy (the service's built-in proxy evaluates the flag per request) or sdk (the application evaluates it and reports outcomes), not ${JSON.stringify(iss.input)}`,
      })
      .optional(),
    stickiness: z
      .strictObject({ header: z.string().min(1).optional(), cookie: z.string().min(1).optional() })
      .refine(
        (s) => (s.header === undefined) !== (s.cookie === undefined),
        'stickiness names one header or one cookie: { header: x-user-id } or { cookie: uid }',
      )
      .optional(),
    errorRate: z
      .strictObject({ by: z.number().min(0).max(1).default(0), times: z.number().min(1).default(1) })
      .default({ by: 0, times: 1 }),
    alpha: z.number().gt(0).lt(0.5).default(0.005),
    minSamples: z.int().min(1).default(50),
    latency: z
      .array(contractRuleSchema)
      .transform((raw, ctx): FlagLatencyRule[] =>
        nameRules(raw).flatMap((r, i): FlagLatencyRule[] => {
          const metric = 'metric' in r ? r.metric : null;
          if (!(FLAG_LATENCY_METRICS as readonly (string | null)[]).includes(metric) || !('failIf' in r)) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'metric'],
              message: `a flag's latency rule watches ${FLAG_LATENCY_METRICS.join(', ')}, not ${metric ?? 'a query, burn rate or signal'} (errorRate is the contract's error-rate rule)`,
            });
            return [];
          }
          if ('judge' in r && r.judge !== undefined && r.judge !== 'sequential') {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'judge'],
              message: `a flag's variants are judged by the sequential judge; remove judge: ${r.judge}`,
            });
            return [];
          }
          return [
            {
              name: r.name,
              metric: metric as FlagLatencyMetric,
              failIf: r.failIf,
              ...(r.minSamples !== undefined && { minSamples: r.minSamples }),
            },
          ];
        }),
      )
      .optional(),
    onFail: z
      .enum(FLAG_ON_FAIL, {
        error: (iss) =>
          `onFail is off (turn the flag off) or pause (freeze its exposure), not ${JSON.stringify(iss.input)}`,
      })
      .default('off'),
  })
  .superRefine((c, ctx) => {
    if (c.evidence === 'sdk' && c.stickiness !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['stickiness'],
        message:
          "with evidence: sdk the application evaluates the flag and its targetingKey picks each user's bucket; remove stickiness (the built-in proxy's)",
      });
    if (c.evidence !== 'sdk' && c.stickiness === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['stickiness'],
        message:
          'the built-in proxy evaluates the flag per request from a header or cookie: add stickiness: { header: x-user-id } or { cookie: uid }, or evidence: sdk when the application evaluates the flag and reports outcomes',
      });
  });

const variantValue = z.union([z.boolean(), z.string(), z.number(), z.array(z.json()), z.record(z.string(), z.json())]);
const lifetime = z.union([
  z.literal('permanent'),
  z.string().regex(/^\d+d$/, 'a lifetime is a number of days such as 40d, or permanent'),
]);

export const featureFlagSchema = z
  .strictObject({
    apiVersion: z.literal('sluice.dev/v1alpha1'),
    kind: z.literal('FeatureFlag'),
    metadata: z.strictObject({ name: key('flag') }),
    spec: z.strictObject({
      type: z.enum(FLAG_TYPES, { error: () => `type is one of ${FLAG_TYPES.join(', ')}` }).default('release'),
      owner: z.string().min(1).optional(),
      description: z.string().optional(),
      variants: z.record(z.string().min(1), variantValue).default({ on: true, off: false }),
      defaultVariant: z.string().default('off'),
      offVariant: z.string().optional(),
      lifetime: lifetime.optional(),
      environments: z.record(key('environment'), environmentSchema).default({}),
      rollbackContract: contractSchema.optional(),
    }),
  })
  .transform((d): FeatureFlag => {
    const name = d.metadata.name;
    const rule = (r: z.infer<typeof ruleSchema>): Rule => ({
      name: r.name,
      when: r.when,
      segments: r.segments,
      ...(r.rollout && {
        rollout: { percent: r.rollout.percent, stickiness: r.rollout.stickiness, groupId: r.rollout.groupId ?? name },
      }),
      ...(r.ramp && {
        ramp: {
          from: r.ramp.from,
          to: r.ramp.to,
          start: Date.parse(r.ramp.start),
          end: Date.parse(r.ramp.end),
          stickiness: r.ramp.stickiness,
          groupId: r.ramp.groupId ?? name,
        },
      }),
      serve:
        typeof r.serve === 'string'
          ? r.serve
          : {
              weights: Object.entries(r.serve.split).map(([variant, weight]) => ({ variant, weight })),
              stickiness: r.serve.stickiness,
              groupId: r.serve.groupId ?? name,
            },
    });
    const s = d.spec;
    return {
      name,
      type: s.type,
      owner: s.owner ?? null,
      description: s.description ?? null,
      variants: s.variants,
      defaultVariant: s.defaultVariant,
      offVariant: s.offVariant ?? s.defaultVariant,
      environments: Object.fromEntries(
        Object.entries(s.environments).map(([env, e]) => [
          env,
          { enabled: e.enabled, rules: e.rules.map(rule), ...(e.protected && { protected: true }) },
        ]),
      ),
      ...(s.rollbackContract !== undefined && {
        rollbackContract: (({ latency, evidence, ...c }) => ({
          ...c,
          stickiness: { ...c.stickiness },
          ...(evidence === 'sdk' && { evidence }),
          ...(latency !== undefined && latency.length > 0 && { latency }),
        }))(s.rollbackContract),
      }),
      lifetimeDays:
        s.lifetime === undefined
          ? EXPECTED_LIFETIME_DAYS[s.type]
          : s.lifetime === 'permanent'
            ? null
            : Number(s.lifetime.slice(0, -1)),
    };
  })
  .superRefine((flag, ctx) => {
    for (const p of flagProblems(flag, null))
      ctx.addIssue({ code: 'custom', path: ['spec', ...p.path], message: p.message });
  });

export const segmentSchema = z
  .strictObject({
    apiVersion: z.literal('sluice.dev/v1alpha1'),
    kind: z.literal('Segment'),
    metadata: z.strictObject({ name: key('segment') }),
    spec: z.strictObject({
      description: z.string().optional(),
      conditions: z.array(conditionSchema).min(1, 'a segment needs at least one condition'),
    }),
  })
  .transform((d): Segment => ({
    name: d.metadata.name,
    description: d.spec.description ?? null,
    conditions: d.spec.conditions,
  }));
