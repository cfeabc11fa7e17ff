import { z } from 'zod';
import { duration } from '../../../core/units.ts';
import { readinessConfig } from '../readiness.ts';

const argv = (example: string) =>
  z
    .array(z.string().min(1, 'an argument may not be empty'))
    .min(1, `give at least the program to run, e.g. ${example}`);

/**
 * `spec.target` for `driver: command`: deploy with whatever CLI the team already has (a VM
 * script, nomad, aws ecs …). Each command is an argv run without a shell.
 */
export const commandTargetConfig = z.strictObject({
  driver: z.literal('command'),
  /** Starts the revision ($SLUICE_VERSION, $SLUICE_REVISION) and exits 0 once it is deployed. */
  deploy: argv('["./deploy.sh"]'),
  /** Stops the revision; must succeed when it is already gone. */
  undeploy: argv('["./undeploy.sh"]'),
  /** Prints the revision's instances: a JSON array or JSON lines of {"id", "url"}. */
  instances: argv('["./instances.sh"]'),
  /** Environment added to Sluice's own, for every command. */
  env: z.record(z.string(), z.string()).prefault({}),
  /** Resolved against the spec's folder, which is also the default. */
  cwd: z.string().min(1).optional(),
  /** Each command's limit; past it its whole process group is killed and the call fails. */
  timeout: duration.prefault('5m'),
  /** When set, start also waits for every listed instance to pass it. */
  readiness: readinessConfig.optional(),
});
export type CommandTargetConfig = z.output<typeof commandTargetConfig>;
