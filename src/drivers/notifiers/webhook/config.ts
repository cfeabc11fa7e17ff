import { z } from 'zod';
import { duration } from '../../../core/units.ts';
import { eventSelection } from '../event-filter.ts';

/** One `spec.notifications[]` entry with `driver: webhook`. */
export const webhookNotifierConfig = z
  .strictObject({
    driver: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: 'write an http(s) URL, e.g. https://hooks.example.com/sluice' }),
    /** `json`: Sluice's envelope; `slack`: `{text, blocks}` for a Slack (or compatible) incoming webhook. */
    format: z.enum(['json', 'slack']).prefault('json'),
    /** Event types, `prefix.*` or groups (see event-filter.ts); parsed to the set of event types. */
    events: eventSelection.prefault(['milestones']),
    /** HMAC-SHA256 key for X-Sluice-Signature. Prefer `secretEnv` to keep it out of the spec. */
    secret: z.string().min(1).optional(),
    /** Name of an environment variable of the Sluice server holding the secret. */
    secretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'write an environment variable name, e.g. SLUICE_WEBHOOK_SECRET').optional(),
    headers: z.record(z.string(), z.string()).prefault({}),
    /** One attempt's limit. */
    timeout: duration.prefault('5s'),
    retry: z
      .strictObject({
        /** Attempts in all, the first included. */
        attempts: z.int().min(1).max(20).prefault(5),
        /** Before the 2nd attempt; doubled each time (with jitter), up to maxDelay. */
        initialDelay: duration.prefault('500ms'),
        maxDelay: duration.prefault('30s'),
      })
      .prefault({}),
    /** Notifications waiting for delivery; past it the oldest is dropped (and counted in the log). */
    queueSize: z.int().min(1).max(100_000).prefault(1000),
  })
  .refine((c) => c.secret === undefined || c.secretEnv === undefined, { error: 'give secret or secretEnv, not both', path: ['secretEnv'] });
export type WebhookNotifierConfig = z.output<typeof webhookNotifierConfig>;
