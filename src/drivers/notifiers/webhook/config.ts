import { z } from 'zod';
import { duration } from '../../../core/units.ts';
import { headersWithSecrets, literalMessage } from '../../secrets.ts';
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
    /** Refused: a literal key would be stored with every revision. Use secretEnv or secretFile. */
    secret: z.unknown().optional(),
    /** The HMAC-SHA256 key for X-Sluice-Signature: the name of an environment variable of the Sluice server holding it. */
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'write an environment variable name, e.g. SLUICE_WEBHOOK_SECRET')
      .optional(),
    /** The HMAC-SHA256 key, read from this file (absolute path, mode 600) when the notifier starts. */
    secretFile: z.string().startsWith('/', 'write an absolute path to a file (mode 600) holding the secret').optional(),
    headers: headersWithSecrets,
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
  .refine((c) => c.secret === undefined, {
    error: literalMessage('the webhook signing key', 'SLUICE_WEBHOOK_SECRET'),
    path: ['secret'],
  })
  .refine((c) => c.secretEnv === undefined || c.secretFile === undefined, {
    error: 'give secretEnv or secretFile, not both',
    path: ['secretFile'],
  });
export type WebhookNotifierConfig = z.output<typeof webhookNotifierConfig>;
