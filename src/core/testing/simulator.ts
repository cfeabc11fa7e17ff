import { type Command, type Input } from '../release/decision.ts';
import { analysisDue, decide } from '../release/decide.ts';
import type { ServiceEvent } from '../events.ts';
import { merge, record } from '../analysis/histogram.ts';
import { reduce, replay } from '../release/reduce.ts';
import { isRoutineEvaluation } from '../retention/routine-evaluation.ts';
import { emptyState, type ServiceState } from '../release/state.ts';
import type { HistogramCounts, Measurement, RequestTotals, RollbackContract, Step, WindowStats } from '../types.ts';

/**
 * A pure, seeded simulation of a service under a release: synthetic traffic with known truth,
 * drivers that act instantly, and a simulated clock. Lets tests run a thousand releases in a
 * second and check every decision.
 */
export interface VersionModel {
  errorRate: number;
  latencyMs: number;
}

export interface SimulationOptions {
  seed: number;
  steps: Step[];
  contract: RollbackContract;
  stable: VersionModel;
  /** The canary's behaviour; a function lets it change over time (flapping). */
  canary: VersionModel | ((t: number) => VersionModel);
  /** Requests per second across both versions. */
  rps: number;
  readyAfterMs?: number;
  durationMs: number;
  tickMs?: number;
  /** Commands a user gives at given times. */
  commands?: { at: number; command: Command }[];
  /** The metrics provider fails for this share of calls. */
  metricsErrorRate?: number;
  /** End the simulation when the release pauses for a person (analysis held too long): what happens next is theirs. */
  stopWhenPaused?: boolean;
  /** Keep routine evaluations out of the log, as the controller does (retention/routine-evaluation.ts). */
  retention?: boolean;
}

export interface SimulationResult {
  state: ServiceState;
  events: ServiceEvent[];
  canaryRequests: number;
  canaryErrors: number;
}

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Slot {
  at: number;
  requests: number;
  errors: number;
  latency: HistogramCounts;
}

/** A sliding window kept as a running sum: slots are added as they come and subtracted as they expire. */
class RollingWindow {
  readonly #slots: Slot[] = [];
  readonly #sum: Slot = { at: 0, requests: 0, errors: 0, latency: {} };

  add(slot: Slot, windowMs: number): void {
    this.#slots.push(slot);
    this.#fold(slot, 1);
    while (this.#slots.length > 0 && this.#slots[0]!.at <= slot.at - windowMs) this.#fold(this.#slots.shift()!, -1);
  }

  #fold(slot: Slot, sign: 1 | -1): void {
    this.#sum.requests += sign * slot.requests;
    this.#sum.errors += sign * slot.errors;
    for (const [k, v] of Object.entries(slot.latency)) {
      const i = Number(k);
      const n = (this.#sum.latency[i] ?? 0) + sign * v;
      if (n === 0) delete this.#sum.latency[i];
      else this.#sum.latency[i] = n;
    }
  }

  stats(windowMs: number): WindowStats {
    return { requests: this.#sum.requests, errors: this.#sum.errors, latency: { ...this.#sum.latency }, windowMs };
  }
}

export function simulate(o: SimulationOptions): SimulationResult {
  const random = rng(o.seed);
  const tick = o.tickMs ?? 100;
  const start = 1_700_000_000_000;
  const events: ServiceEvent[] = [];
  let state = emptyState('sim');
  let seq = 0;
  const windows: Record<string, RollingWindow> = {};
  // The data plane's counters since it started, as the built-in proxy reports them.
  const counters: Record<string, RequestTotals> = {};
  const totals = { canaryRequests: 0, canaryErrors: 0 };

  let evaluationRecordedAt: number | null = null;
  const feed = (input: Input, now: number, actor = 'sim'): void => {
    const d = decide(state, input, now, actor);
    if (o.retention === true && input.type === 'observation') {
      if (isRoutineEvaluation(state.release, d.events, evaluationRecordedAt, now)) {
        state = replay(
          state,
          d.events.map((body) => ({ ...body, service: 'sim', at: now, actor, seq: 0 }) as ServiceEvent),
        );
        return;
      }
      if (d.events.some((e) => e.type === 'analysis.evaluated')) evaluationRecordedAt = now;
    }
    for (const body of d.events) {
      const e = { ...body, service: 'sim', at: now, actor, seq: ++seq } as ServiceEvent;
      events.push(e);
      state = reduce(state, e);
    }
    for (const a of d.actions) {
      if (a.kind === 'setWeights') feed({ type: 'weightsApplied', weights: a.weights }, now, 'sluice-controller');
      if (a.kind === 'stopTarget') feed({ type: 'targetStopped', key: a.key, error: null }, now, 'sluice-controller');
      // startTarget: the canary becomes ready in the main loop below.
    }
  };

  // The stable revision "1" is deployed before the clock starts.
  feed(
    { type: 'startRelease', kind: 'deploy', to: { key: '1', version: '1.0.0' }, steps: [], contract: o.contract },
    start - 1000,
  );
  feed({ type: 'targetReady', key: '1', instances: [{ id: '1-1', url: 'sim://1' }] }, start - 1000);
  feed(
    { type: 'startRelease', kind: 'canary', to: { key: '2', version: '2.0.0' }, steps: o.steps, contract: o.contract },
    start,
  );

  const commands = [...(o.commands ?? [])].sort((a, b) => a.at - b.at);
  for (let t = 0; t <= o.durationMs; t += tick) {
    const now = start + t;
    // The canary's target becomes ready `readyAfterMs` after its release started (again, on retry).
    if (
      state.runtimes['2']?.status === 'starting' &&
      now >= (state.release?.startedAt ?? start) + (o.readyAfterMs ?? 500)
    ) {
      feed({ type: 'targetReady', key: '2', instances: [{ id: '2-1', url: 'sim://2' }] }, now, 'sluice-controller');
    }
    while (commands[0] !== undefined && commands[0].at <= t)
      feed({ type: 'command', command: commands.shift()!.command }, now, 'user');
    // Traffic of this tick, split by the weights in force.
    for (const [key, weight] of Object.entries(state.weights)) {
      const model = key === '2' ? (typeof o.canary === 'function' ? o.canary(t) : o.canary) : o.stable;
      const expected = (o.rps * weight * tick) / 100_000;
      const n = Math.floor(expected) + (random() < expected % 1 ? 1 : 0);
      const slot: Slot = { at: now, requests: n, errors: 0, latency: {} };
      for (let i = 0; i < n; i++) {
        if (random() < model.errorRate) slot.errors++;
        record(slot.latency, model.latencyMs * (0.8 + 0.4 * random()));
      }
      if (key === '2') {
        totals.canaryRequests += n;
        totals.canaryErrors += slot.errors;
      }
      (windows[key] ??= new RollingWindow()).add(slot, o.contract.windowMs);
      const c = (counters[key] ??= { requests: 0, errors: 0, latency: {}, since: start });
      c.requests += n;
      c.errors += slot.errors;
      merge(c.latency, slot.latency);
    }
    if (analysisDue(state, now)) {
      const measure = (key: string | undefined): Measurement => {
        if (key === undefined) return { kind: 'noData' };
        if (o.metricsErrorRate !== undefined && random() < o.metricsErrorRate)
          return { kind: 'error', message: 'simulated provider failure' };
        const stats = windows[key]?.stats(o.contract.windowMs);
        const c = counters[key];
        if (stats === undefined || stats.requests === 0 || c === undefined) return { kind: 'noData' };
        return { kind: 'stats', stats, totals: { ...c, latency: { ...c.latency } } };
      };
      const r = state.release!;
      feed(
        {
          type: 'observation',
          observation: {
            canary: measure(r.to.key),
            baseline: measure(r.from?.key),
            canaryCrashes: 0,
            baselineCrashes: 0,
          },
        },
        now,
        'sluice-controller',
      );
    }
    feed({ type: 'tick' }, now, 'sluice-controller');
    const s = state.release?.status;
    if (s === 'Succeeded' || s === 'RolledBack' || s === 'Aborted' || s === 'Failed') break;
    if (o.stopWhenPaused === true && s === 'Paused' && state.release?.pause?.reason === 'inconclusive') break;
  }
  return { state, events, ...totals };
}
