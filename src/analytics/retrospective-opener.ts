import type { EventBody } from '../core/events.ts';
import type { EventBus } from '../engine/event-bus.ts';
import type { Store } from '../store/types.ts';

type RecordEvent = (event: Extract<EventBody, { type: 'retrospective.opened' }>, actor: string) => Promise<void>;

/**
 * Opens a retrospective (a `retrospective.opened` event under `_server`) for every rollback, once its
 * traffic is reverted, and for every gate override. Beside the control loop, after the events are
 * committed: it never delays a rollback, and a failure to record is logged, not raised. Replicated,
 * the replica that committed the event opens it, so each is opened once.
 */
export function openRetrospectives(
  bus: EventBus,
  store: Store,
  record: RecordEvent,
  onError: (err: unknown) => void,
): () => void {
  return bus.subscribe((e, origin) => {
    if (origin !== 'here') return;
    if (e.type === 'rollback.trafficReverted') {
      void (async () => {
        const release = (await store.releases(e.service, 1))[0];
        if (release?.rollback == null) return;
        const log = release.rollback;
        await record(
          {
            type: 'retrospective.opened',
            id: `${e.service}-retro-${release.number}`,
            target: e.service,
            release: release.number,
            trigger: 'rollback',
            reason: `${log.kind} rollback on ${log.trigger}: ${log.reason}`,
          },
          'sluice-controller',
        );
      })().catch(onError);
    }
    if (e.type === 'gate.overridden') {
      void record(
        {
          type: 'retrospective.opened',
          id: `${e.service}-retro-${e.override.postmortemId}`,
          target: e.service,
          release: null,
          trigger: 'override',
          reason: `${e.override.by} overrode gate ${e.override.gate}: ${e.override.reason}`,
        },
        e.actor,
      ).catch(onError);
    }
  });
}
