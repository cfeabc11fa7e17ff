import { z } from 'zod';
import { readinessConfig } from '../readiness.ts';

/** `spec.target` for `driver: static`: versions already running elsewhere, reached by URL. */
export const staticTargetConfig = z.strictObject({
  driver: z.literal('static'),
  /** One URL per instance; `${version}` in the spec is interpolated before validation. */
  urls: z
    .array(z.url({ protocol: /^https?$/, error: 'write an http(s) URL, e.g. http://10.0.0.5:8080' }))
    .min(1, 'give at least one URL'),
  /** When set, start waits for every URL to pass it. */
  readiness: readinessConfig.optional(),
});
export type StaticTargetConfig = z.output<typeof staticTargetConfig>;
