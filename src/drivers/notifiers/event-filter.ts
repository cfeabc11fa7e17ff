/**
 * Which events a notifier sends: event names from core/events.ts, `prefix.*`, or friendly groups.
 * Pure; the list below is checked against the EventType union by the compiler, both ways.
 */
import { z } from 'zod';
import type { EventType } from '../../core/events.ts';
import { FLAG_EVENT_TYPES } from '../../core/flags/events.ts';
import { DRILL_EVENT_TYPES } from '../../core/drills/events.ts';
import { GOVERNANCE_EVENT_TYPES } from '../../core/plan/events.ts';
import { TRAIN_EVENT_TYPES } from '../../core/trains/index.ts';
import { MIGRATION_EVENT_TYPES } from '../../core/migrations/events.ts';

export const EVENT_TYPES = [
  'spec.applied',
  'release.started',
  'target.starting',
  'target.ready',
  'target.failed',
  'target.crashed',
  'target.stopping',
  'target.stopped',
  'target.retireScheduled',
  'step.started',
  'traffic.shifted',
  'routes.set',
  'contract.frozen',
  'smoke.started',
  'smoke.finished',
  'probe.failed',
  'traffic.applied',
  'analysis.evaluated',
  'release.paused',
  'release.resumed',
  'release.promoted',
  'release.completing',
  'release.verifying',
  'release.succeeded',
  'release.failed',
  'rollback.started',
  'rollback.gradual',
  'rollback.gradualRefused',
  'rollback.trafficReverted',
  'rollback.canaryStopped',
  'service.degraded',
  'service.recovered',
  'driver.failed',
  'router.died',
  'router.restarted',
  'router.drifted',
  'router.hostsApplied',
  'service.deleted',
  'signal.received',
  'release.waiting',
  'release.waitEnded',
  'token.created',
  'token.revoked',
  'policy.applied',
  'serverPolicy.applied',
  'analytics.imported',
  'retrospective.opened',
  'report.weekly',
  'flag.staleDigest',
  'command.requested',
  'command.answered',
  ...GOVERNANCE_EVENT_TYPES,
  ...FLAG_EVENT_TYPES,
  ...DRILL_EVENT_TYPES,
  ...TRAIN_EVENT_TYPES,
  ...MIGRATION_EVENT_TYPES,
] as const satisfies readonly EventType[];
/** Fails to compile when core/events.ts gains an event type this list lacks. */
const everyEventListed: Exclude<EventType, (typeof EVENT_TYPES)[number]> extends never ? true : never = true;
void everyEventListed;

const RELEASES: EventType[] = [
  'release.started',
  'release.paused',
  'release.resumed',
  'release.promoted',
  'release.succeeded',
  'release.failed',
];

/** Named sets of events. `milestones` (the default) is what a person following a release wants. */
export const EVENT_GROUPS: Record<string, readonly EventType[]> = {
  all: EVENT_TYPES,
  milestones: [
    ...RELEASES,
    'release.waiting',
    'step.started',
    'rollback.started',
    'target.failed',
    'service.degraded',
    'service.recovered',
  ],
  releases: [...RELEASES, 'release.completing', 'release.verifying', 'release.waiting', 'release.waitEnded'],
  steps: ['step.started', 'smoke.started', 'smoke.finished'],
  rollbacks: [
    'rollback.started',
    'rollback.gradual',
    'rollback.gradualRefused',
    'rollback.trafficReverted',
    'rollback.canaryStopped',
  ],
  problems: [
    'rollback.started',
    'release.failed',
    'target.failed',
    'target.crashed',
    'probe.failed',
    'service.degraded',
    'driver.failed',
    'router.died',
    'router.drifted',
  ],
  traffic: [
    'traffic.shifted',
    'traffic.applied',
    'routes.set',
    'router.died',
    'router.restarted',
    'router.drifted',
    'router.hostsApplied',
  ],
  targets: [
    'target.starting',
    'target.ready',
    'target.failed',
    'target.crashed',
    'target.stopping',
    'target.stopped',
    'target.retireScheduled',
    'probe.failed',
  ],
  analysis: ['analysis.evaluated', 'contract.frozen'],
  signals: ['signal.received'],
  governance: GOVERNANCE_EVENT_TYPES,
  flags: FLAG_EVENT_TYPES,
  drills: DRILL_EVENT_TYPES,
};

/** The event types one entry stands for, or null when it names nothing. */
function expand(entry: string): readonly EventType[] | null {
  if (Object.hasOwn(EVENT_GROUPS, entry)) return EVENT_GROUPS[entry]!;
  if ((EVENT_TYPES as readonly string[]).includes(entry)) return [entry as EventType];
  if (entry.endsWith('.*')) {
    const matching = EVENT_TYPES.filter((t) => t.startsWith(entry.slice(0, -1)));
    return matching.length > 0 ? matching : null;
  }
  return null;
}

const entry = z.string().refine((e) => expand(e) !== null, {
  error: (iss) =>
    `unknown event "${String(iss.input)}"; write a group (${Object.keys(EVENT_GROUPS).join(', ')}), an event type such as release.started or rollback.started, or a prefix such as rollback.*`,
});

/** `events:` of a notifier: a non-empty list, parsed to the event types it selects (JSON-safe, no Set). */
export const eventSelection = z
  .array(entry)
  .min(1, 'list at least one event or group, e.g. [milestones]')
  .transform((entries): EventType[] => [...new Set(entries.flatMap((e) => expand(e) ?? []))]);

/** Whether an `events:` list as written (groups, prefixes, types) selects `type`. */
export function selects(entries: readonly unknown[], type: EventType): boolean {
  return entries.some((e) => typeof e === 'string' && (expand(e)?.includes(type) ?? false));
}
