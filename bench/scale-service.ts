/**
 * One service of the scale bench: its release driven through the real core (decide, retention)
 * and committed to a real store, with synthetic traffic and drivers that answer at once. What the
 * controller does per service, without the drivers' own processes.
 */
import { decide } from '../src/core/release/decide.ts';
import type { Input } from '../src/core/release/decision.ts';
import type { EventBody, ServiceEvent } from '../src/core/events.ts';
import { contract } from '../src/core/testing/fixtures.ts';
import { merge, record } from '../src/core/analysis/histogram.ts';
import { replay } from '../src/core/release/reduce.ts';
import { isRoutineEvaluation } from '../src/core/retention/routine-evaluation.ts';
import { rng } from '../src/core/testing/simulator.ts';
import { emptyState, type ServiceState } from '../src/core/release/state.ts';
import type { HistogramCounts, Measurement, RequestTotals } from '../src/core/types.ts';
import type { Fence, Store } from '../src/store/types.ts';

const WINDOW_MS = 60_000;
const CONTRACT = contract({
  intervalMs: 1000,
  windowMs: WINDOW_MS,
  maxInconclusiveMs: 86_400_000,
  rules: contract().rules.map((r) => ({ ...r, judge: 'sequential' as const })),
});

interface Slot {
  at: number;
  requests: number;
  errors: number;
  latency: HistogramCounts;
}

export class BenchService {
  readonly name: string;
  state: ServiceState;
  readonly #store: Store;
  readonly #fence: Fence | undefined;
  readonly #random: () => number;
  readonly #rps: number;
  readonly #counters: Record<string, RequestTotals> = {};
  readonly #slots: Record<string, Slot[]> = {};
  /** The sum of each key's slots, kept as slots come and go (what a data plane's window query answers). */
  readonly #window: Record<string, { requests: number; errors: number; latency: HistogramCounts }> = {};
  #recordedAt: number | null = null;
  #trafficAt = 0;
  #lock: Promise<unknown> = Promise.resolve();
  commits = 0;

  constructor(name: string, store: Store, o: { seed: number; rps: number; fence?: Fence }) {
    this.name = name;
    this.state = emptyState(name);
    this.#store = store;
    this.#fence = o.fence;
    this.#random = rng(o.seed);
    this.#rps = o.rps;
  }

  /** Stable 1.0.0 deployed, then a canary at 20% held for a day: a release in progress. */
  async start(now: number): Promise<void> {
    await this.feed(
      { type: 'startRelease', kind: 'deploy', to: { key: '1', version: '1.0.0' }, steps: [], contract: CONTRACT },
      now,
    );
    await this.feed(
      {
        type: 'startRelease',
        kind: 'canary',
        to: { key: '2', version: '2.0.0' },
        steps: [
          { kind: 'setWeight', weight: 20 },
          { kind: 'pause', durationMs: 86_400_000 },
        ],
        contract: CONTRACT,
      },
      now,
    );
    this.#trafficAt = now;
  }

  async feed(input: Input, now: number, actor = 'sluice-controller'): Promise<void> {
    const d = decide(this.state, input, now, actor);
    if (input.type === 'observation' && isRoutineEvaluation(this.state.release, d.events, this.#recordedAt, now)) {
      this.state = replay(
        this.state,
        d.events.map((e) => ({ ...e, service: this.name, at: now, actor, seq: 0 }) as ServiceEvent),
      );
    } else if (d.events.length > 0) {
      const after = replay(
        this.state,
        d.events.map((e) => ({ ...e, service: this.name, at: now, actor, seq: 0 }) as ServiceEvent),
      );
      const stored = await this.#store.commit(
        this.name,
        d.events.map((e: EventBody) => ({ ...e, at: now, actor })),
        after,
        this.#fence,
      );
      this.state = replay(this.state, stored);
      this.commits++;
      if (d.events.some((e) => e.type === 'analysis.evaluated')) this.#recordedAt = now;
    }
    for (const a of d.actions) {
      if (a.kind === 'setWeights') await this.feed({ type: 'weightsApplied', weights: a.weights }, now);
      else if (a.kind === 'startTarget')
        await this.feed(
          { type: 'targetReady', key: a.ref.key, instances: [{ id: `${a.ref.key}-1`, url: `sim://${a.ref.key}` }] },
          now,
        );
      else if (a.kind === 'stopTarget') await this.feed({ type: 'targetStopped', key: a.key, error: null }, now);
    }
  }

  /** Decisions of one service one at a time, as the controller serialises them. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** The traffic since the last call, by the weights in force, as the data plane would count it. */
  #traffic(now: number): void {
    const seconds = (now - this.#trafficAt) / 1000;
    this.#trafficAt = now;
    for (const [key, weight] of Object.entries(this.state.weights)) {
      const n = Math.round((this.#rps * weight * seconds) / 100);
      const slot: Slot = { at: now, requests: n, errors: 0, latency: {} };
      for (let i = 0; i < n; i++) {
        if (this.#random() < 0.002) slot.errors++;
        record(slot.latency, 20 * (0.8 + 0.4 * this.#random()));
      }
      const slots = (this.#slots[key] ??= []);
      const win = (this.#window[key] ??= { requests: 0, errors: 0, latency: {} });
      slots.push(slot);
      win.requests += slot.requests;
      win.errors += slot.errors;
      merge(win.latency, slot.latency);
      while (slots.length > 0 && slots[0]!.at <= now - WINDOW_MS) {
        const gone = slots.shift()!;
        win.requests -= gone.requests;
        win.errors -= gone.errors;
        for (const [b, n] of Object.entries(gone.latency)) {
          const left = (win.latency[Number(b)] ?? 0) - n;
          if (left > 0) win.latency[Number(b)] = left;
          else delete win.latency[Number(b)];
        }
      }
      const c = (this.#counters[key] ??= { requests: 0, errors: 0, latency: {}, since: 0 });
      c.requests += n;
      c.errors += slot.errors;
      merge(c.latency, slot.latency);
    }
  }

  /** One evaluation of the contract, as the controller's measure does. */
  async evaluate(now: number): Promise<void> {
    this.#traffic(now);
    const measure = (key: string | undefined): Measurement => {
      const win = key === undefined ? undefined : this.#window[key];
      const c = key === undefined ? undefined : this.#counters[key];
      if (win === undefined || c === undefined) return { kind: 'noData' };
      return win.requests === 0
        ? { kind: 'noData' }
        : {
            kind: 'stats',
            stats: { requests: win.requests, errors: win.errors, latency: { ...win.latency }, windowMs: WINDOW_MS },
            totals: { ...c, latency: { ...c.latency } },
          };
    };
    const r = this.state.release!;
    await this.feed(
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
    );
  }
}
