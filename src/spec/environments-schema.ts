/**
 * `spec.environments` and `spec.risk`: the ordered environments a service is released through
 * (docs/governance.md). Overrides are kept as written: each environment's effective spec is the
 * base merged with them, and is validated whole by the Service schema when it is built.
 */
import { z } from 'zod';
import { RISK_LEVELS, type RiskLevel } from '../core/plan/types.ts';
import { duration } from '../core/units.ts';
import { strictObject } from './strict-object.ts';

/** A part of the base spec an environment may override: merged (target, router, metrics) or replaced (strategy, contract). */
const override = z.looseObject({}).optional();

/** Extra gates for a high-risk release in this environment; each only raises what the environment asks. */
const highRiskSchema = strictObject({
  approvals: z
    .int()
    .min(0)
    .max(10)
    .optional()
    .describe("Approvals required for a high-risk release (default: the environment's + 1, when it asks for any)"),
  minSoak: duration.optional().describe('Minimum soak in the previous environment for a high-risk release'),
  verify: duration.optional().describe('Minimum Verify window for a high-risk release'),
  slowdown: z
    .number()
    .min(1)
    .max(10)
    .optional()
    .describe('Timed canary pauses last this many times longer for a high-risk release'),
});

export const environmentSchema = strictObject({
  name: z
    .string()
    .regex(
      /^[a-z][a-z0-9]{0,19}$/,
      'an environment name is a lowercase letter, then up to 19 lowercase letters or digits',
    ),
  target: override.describe('Merged over spec.target'),
  router: override.describe('Merged over spec.router; each environment needs its own listen address'),
  metrics: override.describe('Merged over spec.metrics'),
  strategy: override.describe('Replaces spec.strategy'),
  rollbackContract: override.describe('Replaces spec.rollbackContract'),
  minSoak: duration
    .optional()
    .describe('How long a version must have completed in the previous environment before it may enter this one'),
  verify: duration.optional().describe('The Verify window here (strategy.verify.window)'),
  approvals: strictObject({
    required: z.int().min(0).max(10),
    role: z.enum(['approver', 'admin'], { error: () => 'role is approver or admin' }).default('approver'),
  })
    .optional()
    .describe('Approvals a release into this environment needs, from a role; never from its author'),
  highRisk: highRiskSchema.optional(),
  rehearsal: strictObject({
    required: z.boolean(),
    fault: strictObject({
      errors: z
        .string()
        .regex(/^\d+(\.\d+)?%$/, "errors is the share of the canary's requests to fail, e.g. 100%")
        .transform((t) => Number(t.slice(0, -1)))
        .refine((p) => p > 0 && p <= 100, {
          error: (iss) => `errors is more than 0% and at most 100%, got ${String(iss.input)}%`,
        }),
    }).default({ errors: 100 }),
    maxTimeToRevert: duration.refine((ms) => ms > 0 && ms <= 600_000, 'maxTimeToRevert is above 0 and at most 10m'),
  })
    .optional()
    .describe(
      'Before a version enters this environment, its rollback is rehearsed in the previous one: the fault injected into its canary, the contract must revert it within maxTimeToRevert (docs/drills.md)',
    ),
});

export type EnvironmentSpec = z.output<typeof environmentSchema>;

export const environmentsSchema = z
  .array(environmentSchema)
  .min(1, 'list at least one environment, e.g. - name: staging')
  .superRefine((envs, ctx) => {
    const seen = new Set<string>();
    envs.forEach((e, i) => {
      if (seen.has(e.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `environment "${e.name}" is listed twice` });
      seen.add(e.name);
    });
    const first = envs[0];
    // The first environment is released by `sluice apply` itself: nothing comes before it to gate on.
    if (first !== undefined) {
      for (const field of ['approvals', 'minSoak', 'highRisk', 'rehearsal'] as const) {
        if (first[field] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [0, field],
            message: `the first environment (${first.name}) is released by sluice apply and takes no ${field}; set it on a later environment`,
          });
      }
    }
  });

export const riskSchema = z
  .enum(RISK_LEVELS, { error: () => `risk is one of ${RISK_LEVELS.join(', ')}` })
  .describe('low | medium | high; when absent, derived from metadata.labels (migration, auth, payments → high)');

export type { RiskLevel };
