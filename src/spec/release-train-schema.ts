/**
 * `kind: ReleaseTrain` (docs/trains.md): services released together at the versions named, in
 * dependency order, rolled back together. Whether each service exists is checked at apply,
 * against the server.
 */
import { z } from 'zod';
import { APPROVAL_ROLES, ON_FAILURE, type TrainSpec } from '../core/trains/index.ts';
import { compileRule } from '../core/windows/occurrences.ts';
import { strictObject } from './strict-object.ts';

const serviceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service name: a lowercase letter, then up to 62 lowercase letters, digits or -');

const trainService = strictObject({
  name: serviceName.describe('A service applied before (its spec is released at this version)'),
  version: z
    .string({
      error: (iss) => (iss.input === undefined ? undefined : 'must be a string: quote it, e.g. version: "2.3.0"'),
    })
    .min(1)
    .describe('The version the train releases it to'),
});

export const releaseTrainSchema = strictObject({
  apiVersion: z.literal('sluice.dev/v1alpha1', { error: () => 'must be "sluice.dev/v1alpha1"' }),
  kind: z.literal('ReleaseTrain'),
  metadata: strictObject({ name: serviceName.describe("The train's name (sluice train status NAME)") }),
  spec: strictObject({
    services: z
      .array(trainService)
      .min(1, 'list at least one service, e.g. - { name: payments, version: "2.3.0" }')
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((s, i) => {
          if (seen.has(s.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `${s.name} is listed twice; a train releases each service once`,
            });
          seen.add(s.name);
        });
      }),
    maxParallel: z.int().min(1).max(100).default(1).describe('How many independent services release at once'),
    onFailure: z
      .enum(ON_FAILURE, { error: () => `onFailure is ${ON_FAILURE.join(' or ')}` })
      .default('rollbackAll')
      .describe(
        'rollbackAll: roll every released service back, dependents first; holdOthers: stop, roll back the failed one only',
      ),
    environment: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, 'an environment name, e.g. staging or production')
      .optional()
      .describe(
        'For services with spec.environments: the environment the train moves them into, through its gates (rehearsal, approvals, windows) as a release would',
      ),
    window: strictObject({
      policy: z
        .string()
        .min(1, "policy names the server's release policy (its metadata.name), e.g. policy: default")
        .describe("The server's release policy (kind: ReleasePolicy, its metadata.name); checked at apply"),
    })
      .optional()
      .describe(
        "The train obeys the server's release windows: no service of it starts while its window is closed; the train records why and until when, and goes on when it opens. Rollbacks are never held",
      ),
    // The names of the environments' approval gates (environments-schema.ts): required and role.
    approvals: strictObject({
      required: z
        .int({ error: (iss) => `required is a whole number of approvals, 1 to 10; got ${String(iss.input)}` })
        .min(1, {
          error: (iss) =>
            `required is at least 1 (to ask for no approval, remove spec.approvals); got ${String(iss.input)}`,
        })
        .max(10, { error: (iss) => `required is at most 10; got ${String(iss.input)}` }),
      role: z
        .enum(APPROVAL_ROLES, {
          error: (iss) => `role is ${APPROVAL_ROLES.join(' or ')}; got ${JSON.stringify(iss.input)}`,
        })
        .default('approver'),
    })
      .optional()
      .describe(
        'The train as such is approved before any service starts, each run on its own (sluice train approve NAME): required distinct people of role or above, never the one who applied or retried it',
      ),
    schedule: strictObject({
      rrule: z.string().min(1, 'rrule is an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=TU'),
      start: z.string().min(1).describe('Local date-time of the first run, e.g. 2026-12-08T10:00'),
      timeZone: z.string().min(1).describe('IANA time zone, e.g. Europe/Berlin'),
    })
      .superRefine((s, ctx) => {
        try {
          compileRule(s);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      })
      .optional()
      .describe('A train calendar: runs at each occurrence instead of when applied (RRULE, as release windows)'),
  }),
});

export function trainOf(doc: z.output<typeof releaseTrainSchema>): TrainSpec {
  return {
    name: doc.metadata.name,
    services: doc.spec.services,
    maxParallel: doc.spec.maxParallel,
    onFailure: doc.spec.onFailure,
    ...(doc.spec.schedule && { schedule: doc.spec.schedule }),
    ...(doc.spec.environment !== undefined && { environment: doc.spec.environment }),
    ...(doc.spec.approvals !== undefined && { approvals: doc.spec.approvals }),
    ...(doc.spec.window !== undefined && { window: doc.spec.window }),
  };
}
