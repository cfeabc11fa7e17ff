import { z } from 'zod';
import { httpEndpointFields } from '../http-json.ts';

/** `spec.metrics` for `provider: web`: any HTTP endpoint answering JSON (Datadog-style, in-house). */
export const webMetricsConfig = z.strictObject({
  provider: z.literal('web'),
  ...httpEndpointFields,
});
export type WebMetricsConfig = z.output<typeof webMetricsConfig>;
