/**
 * `provider: access-log`: the per-revision counters and latency histograms of the built-in proxy,
 * from the lines HAProxy or NGINX send for every request (see ../../access-log.ts). The router
 * says in `<serviceDir>/router/log-stream.json` which instances send lines and which upstream
 * serves which revision. A router from which nothing came for `silence` (it is sent a heartbeat
 * every `heartbeat`, so an idle one still logs) makes every figure an error: a release pauses on
 * a silent stream, it never promotes on it. Garbage, drops and unattributed lines are counted and
 * logged. `collect` never throws.
 */
import type { DriverFactory } from '../../types.ts';
import type { MetricsProvider } from '../types.ts';
import { AccessLogProvider } from './access-log-provider.ts';
import { type AccessLogMetricsConfig, accessLogMetricsConfig } from './config.ts';

export { accessLogMetricsConfig, type AccessLogMetricsConfig };

export const accessLogMetrics: DriverFactory<MetricsProvider, AccessLogMetricsConfig> = {
  config: accessLogMetricsConfig,
  measuresRouter: ['haproxy', 'nginx'],
  routerSetting: 'accessLog',
  create: (config, ctx) => new AccessLogProvider(config, ctx),
};
