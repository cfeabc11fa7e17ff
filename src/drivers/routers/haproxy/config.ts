/**
 * `spec.router` for HAProxy, in one of two modes:
 * - managed (`listen`): Sluice writes the whole config and runs its own haproxy for the service;
 * - external (`adminSocket` + `backend`): Sluice fills and weighs the servers of a backend in an
 *   HAProxy someone else runs, through its runtime API.
 */
import { z } from 'zod';
import { duration, listenAddress } from '../../../core/units.ts';

const token = (example: string) => z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, `write a name, e.g. ${example}`);

export const haproxyRouterConfig = z
  .strictObject({
    driver: z.literal('haproxy'),
    /** Managed mode: where Sluice's own haproxy serves the service's traffic. */
    listen: listenAddress.optional(),
    /** External mode: the runtime API of a running HAProxy (`stats socket … level admin`): a unix socket path, or host:port. */
    adminSocket: z.string().min(1).optional(),
    /** External mode: the backend whose servers Sluice fills and weighs (its servers are the slots). */
    backend: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, 'write a backend name, e.g. checkout')
      .optional(),
    /** Managed mode: keep each user on one revision (consistent hashing on this header or cookie). */
    stickiness: z
      .strictObject({ header: token('x-user-id').optional(), cookie: token('session').optional() })
      .refine((s) => (s.header === undefined) !== (s.cookie === undefined), {
        message: 'set exactly one of stickiness.header or stickiness.cookie',
      })
      .optional(),
    /**
     * Managed mode: where haproxy sends one line per request (syslog over UDP), for the access-log
     * metrics provider, e.g. 127.0.0.1:5514 (its metrics.listen as this host reaches it).
     */
    accessLog: listenAddress.optional(),
    /** Managed mode: how long haproxy waits on an idle upstream (default 60s). */
    upstreamTimeout: duration.optional(),
    /** The haproxy executable (default `haproxy` on PATH). */
    binary: z.string().min(1).default('haproxy'),
  })
  .superRefine((c, ctx) => {
    const managed = c.listen !== undefined;
    const external = c.adminSocket !== undefined || c.backend !== undefined;
    if (managed === external) {
      ctx.addIssue({
        code: 'custom',
        message: 'set either listen (Sluice runs haproxy) or adminSocket and backend (an HAProxy you run)',
      });
    } else if (external && (c.adminSocket === undefined || c.backend === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'an external HAProxy needs both adminSocket and backend' });
    } else if (
      external &&
      (c.stickiness !== undefined || c.upstreamTimeout !== undefined || c.accessLog !== undefined)
    ) {
      ctx.addIssue({
        code: 'custom',
        message:
          'stickiness, upstreamTimeout and accessLog apply to managed mode only; set them in your HAProxy (docs/access-log.md has the log-format)',
      });
    }
  });

export type HaproxyRouterConfig = z.output<typeof haproxyRouterConfig>;
