/** The body a webhook posts, in Sluice's JSON envelope or in Slack's `{text, blocks}`. Pure. */
import { describeEvent } from '../../../core/describe-event.ts';
import type { NotificationEvent } from '../types.ts';

/** The notification's line: the service, then what happened. */
const textOf = (event: NotificationEvent) => `${event.service}: ${describeEvent(event, event.actor)}`;

export interface JsonEnvelope {
  /** Unique per notification, the same on every retry: receivers deduplicate on it. */
  id: string;
  type: NotificationEvent['type'];
  service: string;
  /** ISO 8601. */
  at: string;
  actor: string;
  seq: number;
  text: string;
  /** The event as stored in Sluice's log. */
  event: NotificationEvent;
}

export function jsonPayload(id: string, event: NotificationEvent): JsonEnvelope {
  const { type, service, at, actor, seq } = event;
  return { id, type, service, at: new Date(at).toISOString(), actor, seq, text: textOf(event), event };
}

/** Slack reads <…> as links and mentions: user text must not be able to ping @channel. */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Slack (and Mattermost, Rocket.Chat …) incoming-webhook format: a fallback text and blocks. */
export function slackPayload(event: NotificationEvent): { text: string; blocks: unknown[] } {
  const text = slackEscape(textOf(event));
  const alarming =
    event.type === 'rollback.started' ||
    event.type === 'release.failed' ||
    event.type === 'service.degraded' ||
    event.type === 'target.failed';
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `${alarming ? ':rotating_light: ' : ''}*${slackEscape(event.service)}*: ${text.slice(slackEscape(event.service).length + 2)}`,
        },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `\`${event.type}\` · ${new Date(event.at).toISOString()} · ${slackEscape(event.actor)}`,
          },
        ],
      },
    ],
  };
}
