/** The events of a train, logged under its own name in the hash-chained log, and their fold. */
import {
  trainMembers,
  type TrainApproval,
  type TrainServiceState,
  type TrainSpec,
  type TrainState,
  type TrainStatus,
} from './types.ts';

/**
 * `member`: the service of the train an event is about (not `service`, which the log's envelope
 * uses for the log's name, `_train:<name>`).
 */
export type TrainEvent =
  /**
   * A run began: each service with what it ran before and what it waits for; `requestedBy`: who
   * asked for it (absent in logs from before approvals). With spec.approvals it waits for them.
   */
  | { type: 'train.started'; spec: TrainSpec; run: number; services: TrainServiceState[]; requestedBy?: string }
  /** A recurring train waits for its next run (`nextRunAt`); `requestedBy`: who applied the schedule. */
  | { type: 'train.scheduled'; spec: TrainSpec; nextRunAt: number; requestedBy?: string }
  /** A person approved the run (spec.approvals); the last approval needed lets it start. */
  | { type: 'train.approved'; by: string; role: string; comment: string | null }
  /** A person refused the run: it ends without starting anything (a scheduled train keeps its next runs). */
  | { type: 'train.rejected'; by: string; comment: string }
  /** Services that would start wait for the release window (spec.window): why and until when. */
  | { type: 'train.windowClosed'; services: string[]; reason: string; until: number | null }
  /** The window opened: the services that waited for it go on. */
  | { type: 'train.windowOpened'; services: string[] }
  | { type: 'train.serviceStarted'; member: string; version: string }
  | { type: 'train.serviceDone'; member: string; detail: string }
  | { type: 'train.serviceFailed'; member: string; detail: string }
  | { type: 'train.rollbackStarted'; member: string; version: string; detail: string }
  | { type: 'train.serviceRolledBack'; member: string; detail: string }
  /** The services not started when the train stopped. */
  | { type: 'train.held'; services: string[]; detail: string }
  | {
      type: 'train.ended';
      status: Exclude<TrainStatus, 'WaitingForApproval' | 'Rejected' | 'Running' | 'RollingBack'>;
      detail: string;
    }
  | { type: 'train.rollingBack'; detail: string };

export type TrainEventType = TrainEvent['type'];

export const TRAIN_EVENT_TYPES = [
  'train.started',
  'train.scheduled',
  'train.approved',
  'train.rejected',
  'train.windowClosed',
  'train.windowOpened',
  'train.serviceStarted',
  'train.serviceDone',
  'train.serviceFailed',
  'train.rollbackStarted',
  'train.serviceRolledBack',
  'train.held',
  'train.ended',
  'train.rollingBack',
] as const satisfies readonly TrainEventType[];

/** How far a run's approvals got: `waiting for approval: 0 of 1 approver`. */
export function approvalProgress(spec: TrainSpec, approvals: readonly TrainApproval[]): string {
  const need = spec.approvals;
  if (need === undefined) return '';
  return `waiting for approval: ${approvals.length} of ${need.required} ${need.role}${need.required === 1 ? '' : 's'} (sluice train approve ${spec.name})`;
}

/** One line a person reads, for notifications and the train's timeline. */
export function describeTrainEvent(e: TrainEvent): string {
  switch (e.type) {
    case 'train.started':
      return `train ${e.spec.name} run ${e.run} started${e.spec.environment === undefined ? '' : ` in ${e.spec.environment}`}: ${e.spec.services.map((s) => `${s.name} ${s.version}`).join(', ')}`;
    case 'train.scheduled':
      return `train ${e.spec.name} scheduled: next run at ${new Date(e.nextRunAt).toISOString()}`;
    case 'train.approved':
      return `approved by ${e.by} (${e.role})${e.comment ? `: ${e.comment}` : ''}`;
    case 'train.rejected':
      return `rejected by ${e.by}: ${e.comment}; nothing was started`;
    case 'train.windowClosed':
      return `${e.services.join(', ')}: waiting for the release window: ${e.reason}`;
    case 'train.windowOpened':
      return `the release window opened: ${e.services.join(', ')} go on`;
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
      status: e.spec.approvals === undefined ? 'Running' : 'WaitingForApproval',
      services: e.services,
      startedAt: e.at,
      endedAt: null,
      detail: approvalProgress(e.spec, []),
      nextRunAt: null,
      requestedBy: e.requestedBy ?? '',
      approvals: [],
      window: null,
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
      requestedBy: e.requestedBy ?? t?.requestedBy ?? '',
      approvals: [],
      window: null,
    };
  }
  if (t === null) return null;
  switch (e.type) {
    case 'train.approved': {
      const approvals = [...t.approvals, { by: e.by, role: e.role, at: e.at, comment: e.comment }];
      const met = approvals.length >= (t.spec.approvals?.required ?? 0);
      return {
        ...t,
        approvals,
        status: met ? 'Running' : t.status,
        detail: met ? '' : approvalProgress(t.spec, approvals),
      };
    }
    case 'train.rejected':
      return { ...t, status: 'Rejected', endedAt: e.at, detail: `rejected by ${e.by}: ${e.comment}` };
    case 'train.windowClosed': {
      const why = `waiting for the release window: ${e.reason}`;
      return {
        ...t,
        window: { services: e.services, reason: e.reason, until: e.until },
        detail: why,
        services: t.services.map((s) => (e.services.includes(s.name) ? { ...s, detail: why } : s)),
      };
    }
    case 'train.windowOpened':
      return {
        ...t,
        window: null,
        detail: '',
        services: t.services.map((s) =>
          e.services.includes(s.name) && s.status === 'waiting' ? { ...s, detail: '' } : s,
        ),
      };
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
      return { ...t, status: 'RollingBack', detail: e.detail, window: null };
    case 'train.ended':
      return { ...t, status: e.status, endedAt: e.at, detail: e.detail, nextRunAt: null, window: null };
    default:
      e satisfies never;
      return t;
  }
}

/** A run in progress: waiting for its approvals, running, or rolling back. */
export function isRunning(t: TrainState | null): boolean {
  return t !== null && (t.status === 'WaitingForApproval' || t.status === 'Running' || t.status === 'RollingBack');
}
