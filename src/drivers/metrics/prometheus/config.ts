import { z } from 'zod';
import { httpEndpointFields } from '../http-json.ts';

/** `spec.metrics` for `provider: prometheus`: PromQL over Prometheus's HTTP API. */
export const prometheusMetricsConfig = z.strictObject({
  provider: z.literal('prometheus'),
  ...httpEndpointFields,
});
export type PrometheusMetricsConfig = z.output<typeof prometheusMetricsConfig>;
