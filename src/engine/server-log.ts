import type { EventBody } from '../core/events.ts';
import { emptyState } from '../core/release/state.ts';
import type { Store } from '../store/types.ts';
import type { EventBus } from './event-bus.ts';

/**
 * Changes to the server itself (API tokens, the release policy) are events too, in the same
 * hash-chained log as the services' under a name no service can have (service names are DNS
 * labels), so the audit trail holds who made which token and who lifted which freeze.
 */
export const SERVER_LOG = '_server';

export type ServerEvent = Extract<
  EventBody,
  { type: 'token.created' | 'token.revoked' | 'policy.applied' | 'serverPolicy.applied' }
>;

export type RecordServerEvents = (events: ServerEvent[], actor: string) => Promise<void>;

export function serverLog(store: Store, bus: EventBus, now: () => number = Date.now): RecordServerEvents {
  return async (events, actor) => {
    const at = now();
    const stored = await store.commit(
      SERVER_LOG,
      events.map((e) => ({ ...e, at, actor })),
      emptyState(SERVER_LOG),
    );
    bus.publish(stored);
  };
}
