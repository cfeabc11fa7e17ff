import type { EventBody } from '../core/events.ts';
import type { EventBus } from '../engine/event-bus.ts';
import type { Store } from '../store/types.ts';

type RecordEvent = (event: Extract<EventBody, { type: 'retrospective.opened' }>, actor: string) => Promise<void>;

export interface RetrospectiveOptions {
  /**
   * Whether moving a release of this service on past rules without evidence is an override (an
   * environment that asks for approvals: docs/governance.md); absent: never.
   */
  promoteIsOverride?: (service: string) => boolean;
}

/**
 * Opens a retrospective (a `retrospective.opened` event under `_server`) for every rollback, once its
 * traffic is reverted, and for every override: a gate overridden (with the post-mortem it opens; the
 * retrospective names the environment's service, `NAME--ENV`, whose release the override lets
 * through) and a promote past rules without evidence where that is an override. Beside the control
 * loop, after the events are committed: it never delays a rollback, and a failure to record is
 * logged, not raised. Replicated, the replica that committed the event opens it, so each is opened once.
 */
export function openRetrospectives(
  bus: EventBus,
  store: Store,
  record: RecordEvent,
  onError: (err: unknown) => void,
  o: RetrospectiveOptions = {},
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
    if (e.type === 'postmortem.opened') {
      const pm = e.postmortem;
      const target = `${pm.service}--${pm.environment}`;
      void record(
        {
          type: 'retrospective.opened',
          id: `${pm.service}-retro-${pm.id}`,
          target,
          release: null,
          trigger: 'override',
          reason: `${pm.overriddenBy} overrode gate ${pm.gate} to release ${pm.version} to ${pm.environment}: ${pm.reason} (sluice doc retro ${target} once it has started)`,
        },
        e.actor,
      ).catch(onError);
    }
    if (e.type === 'release.promoted' && (e.withoutEvidence?.length ?? 0) > 0 && o.promoteIsOverride?.(e.service)) {
      void (async () => {
        const release = (await store.releases(e.service, 1))[0];
        if (release === undefined) return;
        await record(
          {
            type: 'retrospective.opened',
            id: `${e.service}-retro-${release.number}-promoted-${e.seq}`,
            target: e.service,
            release: release.number,
            trigger: 'override',
            reason: `${e.actor} promoted release ${release.number} past ${e.withoutEvidence!.join(', ')} without evidence: ${e.reason ?? '(no reason)'}`,
          },
          e.actor,
        );
      })().catch(onError);
    }
  });
}
