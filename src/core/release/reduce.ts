import { DATA_PLANE_DEATH_WINDOW_MS } from './data-plane-deaths.ts';
import type { ServiceEvent } from '../events.ts';
import { withHostReverts } from './host-reverts.ts';
import { appendPoints } from '../analysis/rules/mann-whitney-rule.ts';
import {
  type DriverName,
  isActive,
  RELEASE_DEFAULTS,
  type ReleaseState,
  type RevisionRuntime,
  type ServiceState,
} from './state.ts';

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

/** A driver that works again: its problem is no longer shown. */
function solved(s: ServiceState, driver: DriverName): ServiceState {
  if (s.problems?.[driver] === undefined) return s;
  const { [driver]: _gone, ...rest } = s.problems;
  return { ...s, problems: rest };
}

/** Fold one event into the state. Pure: the same events always give the same state. */
export function reduce(state: ServiceState, event: ServiceEvent): ServiceState {
  // `routes ?? []`: projections stored before cohort routes existed.
  const s: ServiceState = { ...state, routes: state.routes ?? [], seq: Math.max(state.seq, event.seq) };
  switch (event.type) {
    case 'spec.applied':
      return s;
    case 'driver.failed':
      return {
        ...s,
        problems: {
          ...s.problems,
          [event.driver]: {
            operation: event.operation,
            error: event.error,
            since: s.problems?.[event.driver]?.since ?? event.at,
            at: event.at,
          },
        },
      };
    case 'router.died':
      return {
        ...s,
        problems: {
          ...s.problems,
          router: {
            operation: 'serve traffic',
            error: event.detail,
            since: s.problems?.router?.since ?? event.at,
            at: event.at,
          },
        },
        routerDeaths: [...(s.routerDeaths ?? []).filter((t) => t > event.at - DATA_PLANE_DEATH_WINDOW_MS), event.at],
      };
    case 'router.restarted':
      return solved(s, 'router');
    case 'router.drifted':
      return s;
    case 'router.hostsApplied': {
      const r = s.release;
      return r?.rollback ? withRelease(s, { rollback: withHostReverts(r.rollback, r.to.key, event) }) : s;
    }
    // Governance is folded by core/plan/governance-state.ts, not into the service state.
    case 'environments.applied':
    case 'plan.requested':
    case 'gate.evaluated':
    case 'plan.decided':
    case 'approval.given':
    case 'gate.overridden':
    case 'postmortem.opened':
      return s;
    // Drills are folded by core/drills/record.ts.
    case 'drill.started':
    case 'drill.faultsSet':
    case 'drill.faultsCleared':
    case 'drill.instanceFault':
    case 'drill.instanceAnswering':
    case 'drill.traffic':
    case 'drill.steadyState':
    case 'drill.stopped':
    case 'drill.finished':
    case 'drill.signedOff':
    case 'drill.rehearsed':
    case 'drill.scheduled':
    case 'drill.unscheduled':
    case 'drill.remind':
    case 'drill.scheduledRun':
      return s;
    case 'traffic.applied':
      return { ...solved(s, 'router'), appliedWeights: event.weights };
    case 'release.started':
      return {
        ...s,
        release: { ...RELEASE_DEFAULTS, ...event.release },
        releases: Math.max(s.releases, event.release.number),
      };
    case 'routes.set':
      return newLevel({ ...s, routes: event.routes }, event.at);
    case 'contract.frozen':
      return withRelease(s, { contract: event.contract, contractFrozen: true });
    case 'smoke.started':
      return withRelease(s, { smoke: { index: event.index, startedAt: event.at, ok: null, detail: null } });
    case 'smoke.finished': {
      const smoke = s.release?.smoke;
      if (!smoke || smoke.index !== event.index) return s;
      return withRelease(s, { smoke: { ...smoke, ok: event.ok, detail: event.detail } });
    }
    case 'probe.failed':
    case 'rollback.gradualRefused':
      return s;
    case 'release.verifying':
      return withRelease(s, { status: 'Verifying', completing: false, verifyingSince: event.at, pause: null });
    case 'rollback.gradual':
      return withRelease(s, {
        revert: { steps: event.steps, intervalMs: event.intervalMs, nextAt: event.at + event.intervalMs },
      });
    case 'target.retireScheduled':
      return withRelease(s, { retire: { key: event.key, at: event.until } });
    case 'target.starting':
      return {
        ...s,
        runtimes: { ...s.runtimes, [event.ref.key]: { ...event.ref, status: 'starting', instances: [], crashes: [] } },
      };
    case 'target.ready':
      return withRuntime(solved(s, 'target'), event.key, { status: 'ready', instances: event.instances });
    case 'target.failed':
      return withRuntime(s, event.key, { status: 'failed' });
    case 'target.crashed': {
      const rt = s.runtimes[event.key];
      if (rt === undefined) return s;
      const crashes = [...rt.crashes.filter((t) => t > event.at - CRASH_MEMORY_MS), event.at];
      return withRuntime(s, event.key, { crashes });
    }
    case 'target.stopping': {
      const stopping = withRuntime(s, event.key, { status: 'stopping' });
      return stopping.release?.retire?.key === event.key ? withRelease(stopping, { retire: null }) : stopping;
    }
    case 'target.stopped': {
      const runtimes = { ...s.runtimes };
      delete runtimes[event.key];
      const weights = { ...s.weights };
      if ((weights[event.key] ?? 0) === 0) delete weights[event.key];
      return { ...s, runtimes, weights };
    }
    case 'step.started':
      return withRelease(s, { stepIndex: event.index, stepStartedAt: event.at, status: 'Progressing', pause: null });
    case 'traffic.shifted': {
      // A gradual revert consumes its steps as it shifts; it is done at 0.
      const revert = s.release?.revert;
      const canaryKey = s.release?.to.key;
      const shifted = canaryKey !== undefined && (event.weights[canaryKey] ?? 0) !== (s.weights[canaryKey] ?? 0);
      if (!revert)
        return shifted ? newLevel({ ...s, weights: event.weights }, event.at) : { ...s, weights: event.weights };
      const canary = event.weights[s.release!.to.key] ?? 0;
      const rest = revert.steps.filter((w) => w < canary);
      const next = canary === 0 ? null : { ...revert, steps: rest, nextAt: event.at + revert.intervalMs };
      return withRelease({ ...s, weights: event.weights }, { revert: next });
    }
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
      const metricsErrors = event.metricsError ? (r.metricsErrors ?? 0) + 1 : 0;
      const points =
        event.points === undefined
          ? r.points
          : {
              ...r.points,
              ...Object.fromEntries(
                Object.entries(event.points).map(([rule, point]) => [rule, appendPoints(r.points?.[rule], point)]),
              ),
            };
      return withRelease(event.metricsError ? s : solved(s, 'metrics'), {
        rules,
        analysedAt: event.at,
        metricsErrors,
        ...(event.accumulated && { accumulated: event.accumulated }),
        ...(points && { points }),
      });
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
        Object.entries(r.rules).map(([k, v]) => [
          k,
          { ...v, inconclusiveSince: v.inconclusiveSince === null ? null : event.at },
        ]),
      );
      return withRelease(s, { status: 'Progressing', pause: null, rules, metricsErrors: 0 });
    }
    case 'release.promoted':
      return s;
    case 'release.completing':
      return withRelease(s, { completing: true });
    case 'release.succeeded':
      return {
        ...withRelease(s, { status: 'Succeeded', endedAt: event.at, pause: null }),
        stable: event.stable,
        degraded: null,
      };
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
    case 'token.created':
    case 'token.revoked':
    case 'policy.applied':
    case 'serverPolicy.applied':
    case 'command.requested':
    case 'command.answered':
      return s;
    // A train's events are folded by core/trains/train-events.ts, under the train's own name.
    case 'train.started':
    case 'train.scheduled':
    case 'train.approved':
    case 'train.rejected':
    case 'train.windowClosed':
    case 'train.windowOpened':
    case 'train.serviceStarted':
    case 'train.serviceDone':
    case 'train.serviceFailed':
    case 'train.rollbackStarted':
    case 'train.serviceRolledBack':
    case 'train.held':
    case 'train.rollingBack':
    case 'train.ended':
    case 'migration.rehearsed':
    case 'migration.ran':
    case 'analytics.imported':
    case 'retrospective.opened':
    case 'report.weekly':
    case 'flag.staleDigest':
      return s;
    // Flags are folded by core/flags/flag-set.ts, under `_flags`.
    case 'flag.applied':
    case 'flag.percentSet':
    case 'flag.enabled':
    case 'flag.disabled':
    case 'flag.rolledBack':
    case 'flag.paused':
    case 'flag.resumed':
    case 'flag.archived':
    case 'segment.applied':
      return s;
    case 'release.waiting':
      return {
        ...s,
        waiting: {
          revision: event.revision,
          reason: event.reason,
          until: event.until,
          since: event.at,
          by: event.actor,
        },
      };
    case 'release.waitEnded':
      return { ...s, waiting: null };
    case 'signal.received': {
      const r = s.release;
      if (!isActive(r)) return s;
      return withRelease(s, {
        signals: { ...r.signals, [event.signal]: [...(r.signals?.[event.signal] ?? []), event.at] },
      });
    }
    case 'service.deleted':
      return {
        ...s,
        stable: null,
        weights: {},
        appliedWeights: {},
        runtimes: {},
        release: null,
        degraded: null,
        routes: [],
        waiting: null,
      };
  }
}

/** The canary's share of traffic changed: evidence from here on is judged apart. */
function newLevel(s: ServiceState, at: number): ServiceState {
  const r = s.release;
  if (!isActive(r) || r.from === null) return s;
  const acc = r.accumulated;
  const base = acc === undefined ? null : { canary: acc.canary.sum, baseline: acc.baseline.sum };
  return withRelease(s, { level: { since: at, weight: s.weights[r.to.key] ?? 0, base } });
}

export function replay(initial: ServiceState, events: readonly ServiceEvent[]): ServiceState {
  return events.reduce(reduce, initial);
}
