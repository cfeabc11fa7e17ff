/**
 * `spec.router` for NGINX (managed mode): Sluice writes nginx.conf for the service under its data
 * dir and runs its own nginx master (no root needed). Every table change is a validated config
 * and a graceful reload.
 */
import { z } from 'zod';
import { duration, listenAddress } from '../../../core/units.ts';

export const nginxRouterConfig = z.strictObject({
  driver: z.literal('nginx'),
  /** Where nginx serves the service's traffic. */
  listen: listenAddress,
  /** Keep each user on one revision (`hash … consistent` on this header or cookie). */
  stickiness: z
    .strictObject({
      header: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, 'write a header name of letters, digits and -, e.g. x-user-id')
        .optional(),
      cookie: z
        .string()
        .regex(/^[A-Za-z0-9_]+$/, 'write a cookie name of letters, digits and _, e.g. session')
        .optional(),
    })
    .refine((s) => (s.header === undefined) !== (s.cookie === undefined), {
      message: 'set exactly one of stickiness.header or stickiness.cookie',
    })
    .optional(),
  /** How long nginx waits on an idle upstream before answering 504 (default 60s). */
  upstreamTimeout: duration.optional(),
  /**
   * Where nginx sends one line per request (syslog over UDP), for the access-log metrics
   * provider, e.g. 127.0.0.1:5514 (its metrics.listen as this host reaches it).
   */
  accessLog: listenAddress.optional(),
  /** nginx worker processes (default auto: one per CPU). */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto'),
  /** The nginx executable (default `nginx` on PATH). */
  binary: z.string().min(1).default('nginx'),
});

export type NginxRouterConfig = z.output<typeof nginxRouterConfig>;
