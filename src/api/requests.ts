import { z } from 'zod';
import { COMMANDS } from '../core/release/decision.ts';

/** Request bodies and parameters, validated with the same library as the specs. */
export const applyBody = z.strictObject({
  /** The YAML text of one or more Service documents. */
  spec: z.string().min(1, 'spec is empty: send the YAML text of a Service'),
  /** Shown in error messages and kept with the revision. */
  file: z.string().min(1).default('<api>'),
  /** Absolute folder relative paths in the spec resolve against (the spec file's folder). */
  baseDir: z.string().startsWith('/', 'baseDir must be an absolute path').optional(),
});

export const lintBody = applyBody.omit({ baseDir: true });

export const serviceParams = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service name is lowercase letters, digits and dashes'),
});

export const commandParams = serviceParams.extend({
  command: z.enum(COMMANDS, { error: () => `unknown command; valid: ${COMMANDS.join(', ')}` }),
});

export const commandBody = z
  .strictObject({
    /** promote: skip the remaining steps. */
    full: z.boolean().optional(),
    /** undo: the revision to go back to (default: the previous stable one). */
    toRevision: z
      .union([z.string().regex(/^\d+$/), z.int().positive()])
      .transform(String)
      .optional(),
    /** abort: why, for the rollback log. */
    reason: z.string().max(500).optional(),
  })
  .nullish()
  .transform((b) => b ?? {});

export const signalBody = z.strictObject({
  /** The signal's name, as rules name it (`signal: customer_complaint`). */
  signal: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'a signal name is lowercase letters, digits, _ . - (as in the rule)'),
  /** What happened, for the release log. */
  detail: z.string().max(2000).optional(),
  /** Who or what sent it (a support tool, a pager). */
  source: z.string().max(200).optional(),
});

export const eventsQuery = z.object({
  service: z.string().optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
