import type { ServiceEvent } from './events.ts';
import type { ReleaseState, RevisionRuntime, ServiceState } from './state.ts';

/** How long crash times are kept for the instance_crashes metric. */
const CRASH_MEMORY_MS = 3_600_000;

function withRelease(state: ServiceState, patch: Partial<ReleaseState>): ServiceState {
  if (state.release === null) return state;
  return { ...state, release: { ...state.release, ...patch } };
}

function withRuntime(state: ServiceState, key: string, patch: Partial<RevisionRuntime>): ServiceState {
  const current = state.runtimes[key];
  if (current === undefined) return state;
  return { ...state, runtimes: { ...state.runtimes, [key]: { ...current, ...patch } } };
}

/** Fold one event into the state. Pure: the same events always give the same state. */
export function reduce(state: ServiceState, event: ServiceEvent): ServiceState {
  const s: ServiceState = { ...state, seq: Math.max(state.seq, event.seq) };
  switch (event.type) {
    case 'spec.applied':
    case 'driver.failed':
      return s;
    case 'traffic.applied':
      return { ...s, appliedWeights: event.weights };
    case 'release.started':
      return { ...s, release: event.release, releases: Math.max(s.releases, event.release.number) };
    case 'target.starting':
      return {
        ...s,
        runtimes: { ...s.runtimes, [event.ref.key]: { ...event.ref, status: 'starting', instances: [], crashes: [] } },
      };
    case 'target.ready':
      return withRuntime(s, event.key, { status: 'ready', instances: event.instances });
    case 'target.failed':
      return withRuntime(s, event.key, { status: 'failed' });
    case 'target.crashed': {
      const rt = s.runtimes[event.key];
      if (rt === undefined) return s;
      const crashes = [...rt.crashes.filter((t) => t > event.at - CRASH_MEMORY_MS), event.at];
      return withRuntime(s, event.key, { crashes });
    }
    case 'target.stopping':
      return withRuntime(s, event.key, { status: 'stopping' });
    case 'target.stopped': {
      const runtimes = { ...s.runtimes };
      delete runtimes[event.key];
      const weights = { ...s.weights };
      if ((weights[event.key] ?? 0) === 0) delete weights[event.key];
      return { ...s, runtimes, weights };
    }
    case 'step.started':
      return withRelease(s, { stepIndex: event.index, stepStartedAt: event.at, status: 'Progressing', pause: null });
    case 'traffic.shifted':
      return { ...s, weights: event.weights };
    case 'analysis.evaluated': {
      const r = s.release;
      if (r === null) return s;
      const rules = { ...r.rules };
      for (const v of event.verdicts) {
        const prev = rules[v.rule] ?? { consecutiveFails: 0, totalFails: 0, inconclusiveSince: null, last: null };
        rules[v.rule] = {
          consecutiveFails: v.outcome === 'Fail' ? prev.consecutiveFails + 1 : 0,
          totalFails: prev.totalFails + (v.outcome === 'Fail' ? 1 : 0),
          inconclusiveSince: v.outcome === 'Inconclusive' ? (prev.inconclusiveSince ?? v.at) : null,
          last: v,
        };
      }
      return withRelease(s, { rules, analysedAt: event.at });
    }
    case 'release.paused':
      return withRelease(s, {
        status: 'Paused',
        pause: { reason: event.reason, detail: event.detail, by: event.actor, at: event.at },
      });
    case 'release.resumed': {
      const r = s.release;
      if (r === null) return s;
      // A resume restarts the inconclusive clocks: the user has seen the pause.
      const rules = Object.fromEntries(
        Object.entries(r.rules).map(([k, v]) => [k, { ...v, inconclusiveSince: v.inconclusiveSince === null ? null : event.at }]),
      );
      return withRelease(s, { status: 'Progressing', pause: null, rules });
    }
    case 'release.promoted':
      return s;
    case 'release.completing':
      return withRelease(s, { completing: true });
    case 'release.succeeded':
      return { ...withRelease(s, { status: 'Succeeded', endedAt: event.at, pause: null }), stable: event.stable, degraded: null };
    case 'release.failed':
      return withRelease(s, { status: 'Failed', endedAt: event.at, error: event.error, pause: null });
    case 'rollback.started':
      return withRelease(s, { status: event.status, endedAt: event.at, rollback: event.log, pause: null });
    case 'rollback.trafficReverted': {
      const log = s.release?.rollback;
      if (!log) return s;
      return withRelease(s, { rollback: { ...log, trafficRevertedAt: event.at, revertMs: event.at - log.detectedAt } });
    }
    case 'rollback.canaryStopped': {
      const log = s.release?.rollback;
      if (!log) return s;
      return withRelease(s, { rollback: { ...log, canaryStoppedAt: event.at } });
    }
    case 'service.degraded':
      return { ...s, degraded: event.reason };
    case 'service.recovered':
      return { ...s, degraded: null };
    case 'service.deleted':
      return { ...s, stable: null, weights: {}, appliedWeights: {}, runtimes: {}, release: null, degraded: null };
  }
}

export function replay(initial: ServiceState, events: readonly ServiceEvent[]): ServiceState {
  return events.reduce(reduce, initial);
}
