import { z } from 'zod';
import { duration, listenAddress } from '../../../core/units.ts';

/**
 * `spec.metrics` for `provider: access-log`: request figures from the access log HAProxy or NGINX
 * streams to Sluice (the router's `accessLog` names where it sends, `listen` is where Sluice receives).
 */
export const accessLogMetricsConfig = z.strictObject({
  provider: z.literal('access-log'),
  /** Where Sluice receives the routers' lines (syslog over UDP), e.g. 127.0.0.1:5514. */
  listen: listenAddress,
  /** A router from which no line (not even its heartbeat's) came this long is a metrics error (default 5s). */
  silence: duration.prefault('5s'),
  /** How often each router is sent a heartbeat, so an idle service still logs (default 1s). */
  heartbeat: duration.prefault('1s'),
  /** Lines read per second at most; more are dropped and counted, so a flood cannot take the controller (default 50000). */
  maxLinesPerSecond: z.number().int().min(100).max(1_000_000).default(50_000),
});
export type AccessLogMetricsConfig = z.output<typeof accessLogMetricsConfig>;
