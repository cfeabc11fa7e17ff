/**
 * The notifier contract: deliver service events to people (a webhook, a Slack channel). Delivery
 * is the notifier's business, in the background: `notify` returns at once and never throws, so a
 * slow or dead receiver can never delay a release step or a rollback.
 */
import type { ServiceEvent } from '../../core/events.ts';
import type { DriverFactory } from '../types.ts';

/** An event as stored in the log (body, service, at, actor, seq). */
export type NotificationEvent = ServiceEvent;

export interface Notifier {
  /** Queues the event if the notifier's filter wants it. Never throws, never awaits delivery. */
  notify(event: NotificationEvent): void;
  /** Stops taking events; gives queued deliveries a short grace, then abandons them (logged). */
  close(): Promise<void>;
}

/** `spec.notifications[]` entries name their driver: `{ driver: webhook, … }`. */
export type NotifierFactory<C = any> = DriverFactory<Notifier, C>;
