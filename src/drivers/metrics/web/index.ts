import type { DriverFactory } from '../../types.ts';
import type { MetricsProvider } from '../types.ts';
import { webMetricsConfig, type WebMetricsConfig } from './config.ts';
import { WebProvider } from './web-provider.ts';

export { webMetricsConfig, type WebMetricsConfig };
export { parseWebQuery } from './web-query.ts';
/** Query values go into a URL: pass this to `fillQuery`. */
export const webQueryEscape = encodeURIComponent;

/** `provider: web`: query rules read one number from an HTTP endpoint's JSON. */
export const webMetrics: DriverFactory<MetricsProvider, WebMetricsConfig> = {
  config: webMetricsConfig,
  create: (config, ctx) => new WebProvider(config, ctx),
};
