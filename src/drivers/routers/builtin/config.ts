/** `spec.router` for the built-in proxy. */
import { z } from 'zod';
import { duration, listenAddress } from '../../../core/units.ts';

export const builtinRouterConfig = z.strictObject({
  driver: z.literal('builtin'),
  /** Where the proxy serves the service's traffic. */
  listen: listenAddress,
  /** Keep each user on one revision, keyed by this request header or cookie (exactly one). */
  stickiness: z
    .strictObject({
      header: z
        .string()
        .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'write a header name, e.g. x-user-id')
        .optional(),
      cookie: z
        .string()
        .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'write a cookie name, e.g. session')
        .optional(),
    })
    .refine((s) => (s.header === undefined) !== (s.cookie === undefined), {
      message: 'set exactly one of stickiness.header or stickiness.cookie',
    })
    .optional(),
  /** How long the proxy waits on an idle upstream before answering 504 (default 60s). */
  upstreamTimeout: duration.optional(),
  /**
   * Worker processes serving the traffic on one listen socket (default 1: the proxy process
   * itself). More use more cores; each change still reaches every worker before `apply` resolves.
   */
  workers: z
    .number()
    .int('write a whole number of workers, e.g. 2')
    .min(1, 'at least 1 worker')
    .max(64, 'at most 64 workers')
    .optional(),
});

export type BuiltinRouterConfig = z.output<typeof builtinRouterConfig>;
