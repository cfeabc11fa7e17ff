import type { DriverFactory } from '../../types.ts';
import type { MetricsProvider } from '../types.ts';
import { prometheusMetricsConfig, type PrometheusMetricsConfig } from './config.ts';
import { PrometheusProvider } from './prometheus-provider.ts';

export { prometheusMetricsConfig, type PrometheusMetricsConfig };
/** Query values go inside PromQL "..." label matchers: pass this to `fillQuery`. */
export { escapePromqlString as prometheusQueryEscape } from '../query-template.ts';

/** `provider: prometheus`: query rules as PromQL instant queries. */
export const prometheusMetrics: DriverFactory<MetricsProvider, PrometheusMetricsConfig> = {
  config: prometheusMetricsConfig,
  create: (config, ctx) => new PrometheusProvider(config, ctx),
};
