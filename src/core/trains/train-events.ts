/** The events of a train, logged under its own name in the hash-chained log, and their fold. */
import { trainMembers, type TrainServiceState, type TrainSpec, type TrainState, type TrainStatus } from './types.ts';

/**
 * `member`: the service of the train an event is about (not `service`, which the log's envelope
 * uses for the log's name, `_train:<name>`).
 */
export type TrainEvent =
  /** A run began: each service with what it ran before and what it waits for. */
  | { type: 'train.started'; spec: TrainSpec; run: number; services: TrainServiceState[] }
  /** A recurring train waits for its next run (`nextRunAt`). */
  | { type: 'train.scheduled'; spec: TrainSpec; nextRunAt: number }
  | { type: 'train.serviceStarted'; member: string; version: string }
  | { type: 'train.serviceDone'; member: string; detail: string }
  | { type: 'train.serviceFailed'; member: string; detail: string }
  | { type: 'train.rollbackStarted'; member: string; version: string; detail: string }
  | { type: 'train.serviceRolledBack'; member: string; detail: string }
  /** The services not started when the train stopped. */
  | { type: 'train.held'; services: string[]; detail: string }
  | { type: 'train.ended'; status: Exclude<TrainStatus, 'Running' | 'RollingBack'>; detail: string }
  | { type: 'train.rollingBack'; detail: string };

export type TrainEventType = TrainEvent['type'];

export const TRAIN_EVENT_TYPES = [
  'train.started',
  'train.scheduled',
  'train.serviceStarted',
  'train.serviceDone',
  'train.serviceFailed',
  'train.rollbackStarted',
  'train.serviceRolledBack',
  'train.held',
  'train.ended',
  'train.rollingBack',
] as const satisfies readonly TrainEventType[];

/** One line a person reads, for notifications and the train's timeline. */
export function describeTrainEvent(e: TrainEvent): string {
  switch (e.type) {
    case 'train.started':
      return `train ${e.spec.name} run ${e.run} started${e.spec.environment === undefined ? '' : ` in ${e.spec.environment}`}: ${e.spec.services.map((s) => `${s.name} ${s.version}`).join(', ')}`;
    case 'train.scheduled':
      return `train ${e.spec.name} scheduled: next run at ${new Date(e.nextRunAt).toISOString()}`;
    case 'train.serviceStarted':
      return `${e.member}: releasing ${e.version}`;
    case 'train.serviceDone':
      return `${e.member}: done (${e.detail})`;
    case 'train.serviceFailed':
      return `${e.member}: failed (${e.detail})`;
    case 'train.rollbackStarted':
      return `${e.member}: ${e.detail}`;
    case 'train.serviceRolledBack':
      return `${e.member}: rolled back (${e.detail})`;
    case 'train.held':
      return `held ${e.services.join(', ')}: ${e.detail}`;
    case 'train.rollingBack':
      return `rolling back: ${e.detail}`;
    case 'train.ended':
      return `train ${e.status}: ${e.detail}`;
  }
}

type Timed = TrainEvent & { at: number };

function withService(t: TrainState, name: string, change: Partial<TrainServiceState>): TrainState {
  return { ...t, services: t.services.map((s) => (s.name === name ? { ...s, ...change } : s)) };
}

/** Fold one event into the train's state (null before its first start). */
export function reduceTrain(t: TrainState | null, e: Timed): TrainState | null {
  if (e.type === 'train.started')
    return {
      spec: e.spec,
      run: e.run,
      status: 'Running',
      services: e.services,
      startedAt: e.at,
      endedAt: null,
      detail: '',
      nextRunAt: null,
    };
  if (e.type === 'train.scheduled') {
    const services =
      t?.services ??
      trainMembers(e.spec).map((s) => ({
        name: s.name,
        version: s.version,
        from: null,
        status: 'waiting' as const,
        after: [],
        startedAt: null,
        endedAt: null,
        detail: '',
      }));
    return {
      spec: e.spec,
      run: t?.run ?? 0,
      status: 'Scheduled',
      services,
      startedAt: t?.startedAt ?? e.at,
      endedAt: t?.endedAt ?? null,
      detail: `next run at ${new Date(e.nextRunAt).toISOString()}`,
      nextRunAt: e.nextRunAt,
    };
  }
  if (t === null) return null;
  switch (e.type) {
    case 'train.serviceStarted':
      return withService(t, e.member, { status: 'releasing', startedAt: e.at, detail: `releasing ${e.version}` });
    case 'train.serviceDone':
      return withService(t, e.member, { status: 'done', endedAt: e.at, detail: e.detail });
    case 'train.serviceFailed':
      return withService(t, e.member, { status: 'failed', endedAt: e.at, detail: e.detail });
    case 'train.rollbackStarted':
      return withService(t, e.member, { status: 'rollingBack', detail: e.detail });
    case 'train.serviceRolledBack':
      return withService(t, e.member, { status: 'rolledBack', endedAt: e.at, detail: e.detail });
    case 'train.held':
      return {
        ...t,
        services: t.services.map((s) => (e.services.includes(s.name) ? { ...s, status: 'held', detail: e.detail } : s)),
      };
    case 'train.rollingBack':
      return { ...t, status: 'RollingBack', detail: e.detail };
    case 'train.ended':
      return { ...t, status: e.status, endedAt: e.at, detail: e.detail, nextRunAt: null };
    default:
      e satisfies never;
      return t;
  }
}

export function isRunning(t: TrainState | null): boolean {
  return t !== null && (t.status === 'Running' || t.status === 'RollingBack');
}
