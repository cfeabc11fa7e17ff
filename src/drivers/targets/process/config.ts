import { z } from 'zod';
import { duration } from '../../../core/units.ts';
import { readinessConfig } from '../readiness.ts';

/** `spec.target` for `driver: process`: run each revision as local OS processes. */
export const processTargetConfig = z.strictObject({
  driver: z.literal('process'),
  /** argv, run without a shell; a relative program path resolves against the spec's folder. */
  command: z
    .array(z.string().min(1, 'an argument may not be empty'))
    .min(1, 'give at least the program to run, e.g. ["node", "server.js"]'),
  env: z.record(z.string(), z.string()).prefault({}),
  /** Resolved against the spec's folder, which is also the default. */
  cwd: z.string().min(1).optional(),
  instances: z.int().min(1).max(64).prefault(1),
  readiness: readinessConfig.prefault({}),
  /** SIGKILL the instance when it is still alive this long after SIGTERM. */
  stopTimeout: duration.prefault('10s'),
  /** Restarts allowed per instance within 60 s; after that a crashed instance stays down. */
  maxRestarts: z.int().min(0).prefault(5),
});
export type ProcessTargetConfig = z.output<typeof processTargetConfig>;
