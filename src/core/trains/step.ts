/**
 * One decision of a train (pure; time comes with the events): from its state and what each of its
 * services shows now, what to record and what to do. Services start in dependency order, those
 * whose train dependencies are done in parallel up to maxParallel. A failure stops the train: with
 * rollbackAll, every released service goes back to what it ran before, dependents first (a level
 * at a time, in parallel within a level); with holdOthers, only the failed service went back (by
 * its own contract) and the rest stay as they are. A run waiting for its approvals does nothing
 * (people approve it: approval.ts); with spec.window, a service whose window is closed does not
 * start (recorded once, with why and until when). Rolling back is never held by a window.
 */
import type { TrainEvent } from './train-events.ts';
import type { ServiceObservation, TrainAction, TrainServiceState, TrainState, TrainWindow } from './types.ts';

export interface TrainDecision {
  events: TrainEvent[];
  actions: TrainAction[];
}

const ACTIVE = new Set(['Starting', 'Progressing', 'Paused', 'Verifying']);
/** Still releasing, or rolled back with its traffic not yet reverted (a dependency waits until it is). */
const inProgress = (o: ServiceObservation | undefined) =>
  o?.release !== null && o?.release !== undefined && (ACTIVE.has(o.release.status) || o.release.reverting === true);

/** Where a releasing service got to: done, failed (why), or still going (null). */
function releaseOutcome(
  s: TrainServiceState,
  o: ServiceObservation | undefined,
): { done: boolean; detail: string } | null {
  if (o === undefined) return { done: false, detail: `${s.name} no longer exists` };
  if (inProgress(o)) return null;
  if (o.stable === s.version) return { done: true, detail: `${s.name} runs ${s.version}` };
  const r = o.release;
  if (r !== null && r.to === s.version)
    return { done: false, detail: `${s.name} ${s.version}: release ${r.status}${r.detail ? `: ${r.detail}` : ''}` };
  return null;
}

export function stepTrain(t: TrainState, seen: Readonly<Record<string, ServiceObservation>>): TrainDecision {
  if (t.status === 'Running') return stepRunning(t, seen);
  if (t.status === 'RollingBack') return stepRollingBack(t, seen);
  return { events: [], actions: [] };
}

function stepRunning(t: TrainState, seen: Readonly<Record<string, ServiceObservation>>): TrainDecision {
  const events: TrainEvent[] = [];
  const actions: TrainAction[] = [];
  const status = new Map(t.services.map((s) => [s.name, s.status]));
  for (const s of t.services.filter((x) => x.status === 'releasing')) {
    const outcome = releaseOutcome(s, seen[s.name]);
    if (outcome === null) continue;
    events.push({
      type: outcome.done ? 'train.serviceDone' : 'train.serviceFailed',
      member: s.name,
      detail: outcome.detail,
    });
    status.set(s.name, outcome.done ? 'done' : 'failed');
  }
  const failed = t.services.filter((s) => status.get(s.name) === 'failed');
  if (failed.length > 0) {
    const why = `${failed.map((s) => s.name).join(', ')} failed`;
    const waiting = t.services.filter((s) => status.get(s.name) === 'waiting').map((s) => s.name);
    if (waiting.length > 0) events.push({ type: 'train.held', services: waiting, detail: `not started: ${why}` });
    const releasing = t.services.filter((s) => status.get(s.name) === 'releasing');
    if (t.spec.onFailure === 'rollbackAll') {
      for (const s of releasing)
        actions.push({
          kind: 'abort',
          service: s.name,
          reason: `train ${t.spec.name}: ${why}; rolling the train back`,
        });
      events.push({
        type: 'train.rollingBack',
        detail: `${why}: rolling back every released service, dependents first`,
      });
      return { events, actions };
    }
    if (releasing.length === 0)
      events.push({
        type: 'train.ended',
        status: 'Failed',
        detail: `${why}; the others were held (onFailure: holdOthers)`,
      });
    return { events, actions };
  }
  if (t.services.every((s) => status.get(s.name) === 'done')) {
    events.push({
      type: 'train.ended',
      status: 'Succeeded',
      detail: `every service runs its train version: ${t.services.map((s) => `${s.name} ${s.version}`).join(', ')}`,
    });
    return { events, actions };
  }
  // A service whose turn came starts, unless the release window (spec.window) is closed for it.
  let slots = t.spec.maxParallel - t.services.filter((s) => status.get(s.name) === 'releasing').length;
  const starts: TrainServiceState[] = [];
  const held: string[] = [];
  let closed: TrainWindow | null = null;
  for (const s of t.services) {
    if (slots <= 0) break;
    if (status.get(s.name) !== 'waiting' || !s.after.every((a) => status.get(a) === 'done')) continue;
    const w = seen[s.name]?.window;
    if (t.spec.window !== undefined && w !== undefined && !w.open) {
      held.push(s.name);
      closed ??= w;
      continue;
    }
    starts.push(s);
    slots--;
  }
  if (closed !== null) {
    const same =
      t.window !== null &&
      t.window.reason === closed.reason &&
      t.window.until === closed.until &&
      t.window.services.join() === held.join();
    if (!same) events.push({ type: 'train.windowClosed', services: held, reason: closed.reason, until: closed.until });
  } else if (t.window !== null) events.push({ type: 'train.windowOpened', services: t.window.services });
  for (const s of starts) {
    events.push({ type: 'train.serviceStarted', member: s.name, version: s.version });
    actions.push({ kind: 'release', service: s.name, version: s.version });
  }
  return { events, actions };
}

function stepRollingBack(t: TrainState, seen: Readonly<Record<string, ServiceObservation>>): TrainDecision {
  const events: TrainEvent[] = [];
  const actions: TrainAction[] = [];
  const status = new Map(t.services.map((s) => [s.name, s.status]));
  for (const s of t.services) {
    const o = seen[s.name];
    if (s.status === 'releasing') {
      // Aborted by the train (or it ended by itself): done ones are rolled back below, the rest went back already.
      const outcome = releaseOutcome(s, o);
      if (outcome === null && inProgress(o)) continue;
      if (outcome?.done === true) {
        events.push({ type: 'train.serviceDone', member: s.name, detail: outcome.detail });
        status.set(s.name, 'done');
      } else {
        events.push({
          type: 'train.serviceRolledBack',
          member: s.name,
          detail: `${s.name} stopped before it was done; runs ${o?.stable ?? 'nothing'}`,
        });
        status.set(s.name, 'rolledBack');
      }
    } else if (s.status === 'rollingBack' && !inProgress(o)) {
      const back = o?.stable === s.from?.version;
      events.push(
        back
          ? { type: 'train.serviceRolledBack', member: s.name, detail: `${s.name} runs ${s.from!.version} again` }
          : {
              type: 'train.serviceFailed',
              member: s.name,
              detail: `the rollback of ${s.name} to ${s.from?.version} did not complete; it runs ${o?.stable ?? 'nothing'}`,
            },
      );
      status.set(s.name, back ? 'rolledBack' : 'failed');
    }
  }
  // Dependents first: a done service goes back once nothing of the train that depends on it is still up.
  const up = new Set(['done', 'releasing', 'rollingBack']);
  for (const s of t.services) {
    if (status.get(s.name) !== 'done') continue;
    const dependentsUp = t.services.some((d) => d.after.includes(s.name) && up.has(status.get(d.name)!));
    if (dependentsUp) continue;
    if (s.from === null || s.from.version === s.version) {
      events.push({
        type: 'train.serviceRolledBack',
        member: s.name,
        detail: `${s.name} ${s.from === null ? 'ran nothing' : `ran ${s.version} already`} before the train: left on ${s.version}`,
      });
      status.set(s.name, 'rolledBack');
      continue;
    }
    events.push({
      type: 'train.rollbackStarted',
      member: s.name,
      version: s.from.version,
      detail: `rolling back to ${s.from.version}`,
    });
    actions.push({ kind: 'rollback', service: s.name, toRevision: s.from.revision, version: s.from.version });
    status.set(s.name, 'rollingBack');
  }
  if (![...status.values()].some((v) => up.has(v))) {
    const stuck = t.services
      .filter((s) => s.status === 'rollingBack' && status.get(s.name) === 'failed')
      .map((s) => s.name);
    events.push(
      stuck.length > 0
        ? { type: 'train.ended', status: 'Failed', detail: `the rollback of ${stuck.join(', ')} did not complete` }
        : {
            type: 'train.ended',
            status: 'RolledBack',
            detail: `every released service runs its version from before the train again (${t.detail})`,
          },
    );
  }
  return { events, actions };
}

/** A person stops the train: services releasing are aborted (back to their stable version), the rest held. */
export function abortTrain(t: TrainState, reason: string): TrainDecision {
  if (t.status === 'Scheduled')
    return {
      events: [{ type: 'train.ended', status: 'Aborted', detail: `the schedule was cancelled: ${reason}` }],
      actions: [],
    };
  const actions: TrainAction[] = t.services
    .filter((s) => s.status === 'releasing')
    .map((s) => ({ kind: 'abort', service: s.name, reason }));
  const waiting = t.services.filter((s) => s.status === 'waiting').map((s) => s.name);
  const events: TrainEvent[] = [
    ...(waiting.length > 0 ? [{ type: 'train.held' as const, services: waiting, detail: reason }] : []),
    { type: 'train.ended', status: 'Aborted', detail: reason },
  ];
  return { events, actions };
}
