/** JSON Schema of the Service document as users write it, for editors (YAML language servers). */
import { z } from 'zod';
import { documentSchema, type DriverSchemas } from './service-schema.ts';
import { closeStrictObjects } from './strict-object.ts';

/** Any one of the registered drivers' configs. */
function oneOf(schemas: Record<string, z.ZodType>): z.ZodType {
  const list = Object.values(schemas);
  const [first, ...rest] = list;
  if (first === undefined) return z.never();
  return rest.length === 0 ? first : z.union([first, ...rest]);
}

/** Draft 2020-12, input side: durations are strings, defaults are what a user may omit. */
export function jsonSchema(drivers: DriverSchemas): Record<string, unknown> {
  const schema = documentSchema({
    target: oneOf(drivers.targets).describe('Target template; ${version} and ${service} are replaced per revision'),
    router: z
      .union([oneOf(drivers.routers), z.array(oneOf(drivers.routers)).min(1)])
      .describe('Where traffic is split between versions: one router, or a list of hosts of one driver'),
    metrics: oneOf(drivers.metrics).optional().describe('Where figures come from; default { provider: builtin }'),
    notifications: z.array(oneOf(drivers.notifiers)).optional().describe('Where release events are delivered'),
  }).meta({ title: 'Sluice Service', description: 'A service released progressively by Sluice' });
  // Driver schemas may hold checks JSON Schema cannot express; editors still get the rest.
  return z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: closeStrictObjects,
  });
}
