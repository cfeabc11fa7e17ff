/**
 * `spec.dependsOn`: the services this one needs, each with the semver range of the version that
 * must be running (docs/trains.md). The range is checked here; whether the service exists, a
 * version meets the range and the graph has no cycle are checked at apply, against the server.
 */
import { z } from 'zod';
import { rangeProblem } from '../core/graph/index.ts';
import { strictObject } from './strict-object.ts';

export const dependencySchema = strictObject({
  service: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service name: a lowercase letter, then up to 62 lowercase letters, digits or -')
    .describe('The service depended on'),
  version: z
    .string({
      error: (iss) =>
        iss.input === undefined ? undefined : 'must be a string: quote it, e.g. version: ">=2.3.0 <3.0.0"',
    })
    .superRefine((range, ctx) => {
      const problem = rangeProblem(range);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe('The semver range of the version it must run, e.g. ">=2.3.0 <3.0.0" or "^2.3.0"'),
});

export const dependsOnSchema = z.array(dependencySchema).superRefine((deps, ctx) => {
  const seen = new Set<string>();
  deps.forEach((d, i) => {
    if (seen.has(d.service))
      ctx.addIssue({
        code: 'custom',
        path: [i, 'service'],
        message: `${d.service} is listed twice; give one range (ranges combine with a space: ">=2.3.0 <3.0.0")`,
      });
    seen.add(d.service);
  });
});

export type DependencySpec = z.output<typeof dependencySchema>;
