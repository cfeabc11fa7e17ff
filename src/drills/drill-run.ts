/**
 * One run of a GameDay: the steady state before, each method step's faults (held alive by a
 * short lease the runner renews, so a dead controller's faults end within the lease), the
 * steady state after, then the verdict and the figures. Faults are removed in `finally`: also
 * when the drill deviates, is stopped, or a driver call fails.
 */
import type { DrillVerdict } from '../core/drills/events.ts';
import type { ActiveFault, FaultRule } from '../core/drills/fault.ts';
import type { DrillStep, FaultTarget, GameDay, InstanceDrillFault } from '../core/drills/gameday.ts';
import { drillTimes, resilienceScore, toleranceMet } from '../core/drills/record.ts';
import type { ServiceEvent } from '../core/events.ts';
import type { FaultControl } from '../drivers/routers/types.ts';
import type { EventBus } from '../engine/event-bus.ts';
import type { InstanceFaulting } from '../engine/service-controller.ts';
import type { DrillLog } from './drill-log.ts';
import { InstanceFaulter } from './instance-faulter.ts';
import { ProbeSampler } from './probe-sampler.ts';
import { type ReadTraffic, TrafficSampler } from './traffic-sampler.ts';

/** After the contract reverted a faulted canary, its step ends this long after (stragglers finish). */
const AFTER_REVERT_MS = 500;

export interface DrillRunDeps {
  log: DrillLog;
  bus: EventBus;
  /** The data plane's faults; undefined when the drill has none of them (only instance faults). */
  faults: FaultControl | undefined;
  /** The key each target names now (a revision; the metrics API's for `metrics`). */
  keys: Record<FaultTarget, string | null>;
  /** The targets' handles on the revisions whose instances the method faults, by revision key. */
  instances: Map<string, InstanceFaulting>;
  leaseMs: number;
  actor: string;
  /** Reads requests and errors per revision (the dashboard's charts); absent: none recorded. */
  traffic?: ReadTraffic;
}

export class DrillRun {
  readonly gameDay: GameDay;
  readonly run: number;
  readonly #d: DrillRunDeps;
  readonly #stop = new AbortController();
  #stopReason: string | null = null;
  /** Ids of faults set and not yet removed (the safety lever clears them too). */
  readonly active = new Set<string>();
  readonly #instances: InstanceFaulter;

  constructor(gameDay: GameDay, run: number, deps: DrillRunDeps) {
    this.gameDay = gameDay;
    this.run = run;
    this.#d = deps;
    this.#instances = new InstanceFaulter(this.#event(), (e) => deps.log.record(e, deps.actor));
  }

  /** The revision key an instance fault names: its version's, or the canary's while a release is in progress. */
  static instanceKey(f: InstanceDrillFault, keys: Record<FaultTarget, string | null>): string | null {
    return f.version === null ? (keys.canary ?? keys.stable) : keys[f.version];
  }

  /** The safety lever's part: every instance this run stopped is resumed now. */
  resumeInstances(): Promise<void> {
    return this.#instances.resume();
  }

  get service(): string {
    return this.gameDay.service;
  }

  /** Abort the drill: the current step ends now and its faults are removed. */
  stop(reason: string): void {
    if (this.#stopReason !== null) return;
    this.#stopReason = reason;
    this.#stop.abort();
  }

  #event(): { drill: string; run: number; drilled: string } {
    return { drill: this.gameDay.name, run: this.run, drilled: this.service };
  }

  /** Runs to the end; resolves with the verdict once `drill.finished` is recorded. */
  async execute(): Promise<DrillVerdict> {
    const g = this.gameDay;
    const { log, actor } = this.#d;
    const seen: { failAt: number | null; revertedAt: number | null } = { failAt: null, revertedAt: null };
    const unsubscribe = this.#d.bus.subscribe((e: ServiceEvent) => {
      if (e.service !== this.service) return;
      if (e.type === 'rollback.started') seen.failAt ??= e.at;
      if (e.type === 'rollback.trafficReverted') seen.revertedAt ??= e.at;
    });
    // A revert moves traffic off the canary: its faulted instances count as restored then.
    const reverted = () =>
      seen.revertedAt !== null && this.#d.keys.canary !== null
        ? { at: seen.revertedAt, key: this.#d.keys.canary }
        : null;
    const sampler = new ProbeSampler(g.probes, (probe, overall) => {
      for (const c of g.stopConditions) {
        if (c.probe !== probe || overall.total === 0) continue;
        const share = (overall.good / overall.total) * 100;
        if (share < c.below)
          this.stop(
            `stop condition: probe ${probe} at ${share.toFixed(1)}% (${overall.good}/${overall.total}), below ${c.below}%`,
          );
      }
    });
    const hit: ActiveFault[] = [];
    let error: string | null = null;
    const revisions = [...new Set([this.#d.keys.stable, this.#d.keys.canary].filter((k): k is string => k !== null))];
    const traffic = this.#d.traffic === undefined ? null : new TrafficSampler(this.#d.traffic, revisions);
    traffic?.start();
    sampler.start();
    try {
      await this.#wait(g.steadyStateMs.before);
      await log.record(
        { type: 'drill.steadyState', ...this.#event(), phase: 'before', tallies: sampler.tallies('before') },
        actor,
      );
      sampler.phase = 'during';
      for (let step = 0; step < g.method.length && !this.#stop.signal.aborted; step++) {
        hit.push(...(await this.#step(step, g.method[step]!, seen)));
      }
      await log.record(
        { type: 'drill.steadyState', ...this.#event(), phase: 'during', tallies: sampler.tallies('during') },
        actor,
      );
      sampler.phase = 'after';
      if (!this.#stop.signal.aborted) await this.#wait(g.steadyStateMs.after);
      await log.record(
        { type: 'drill.steadyState', ...this.#event(), phase: 'after', tallies: sampler.tallies('after') },
        actor,
      );
    } catch (err) {
      error = (err as Error).message;
    } finally {
      sampler.stop();
      if (this.#stop.signal.aborted) this.#instances.abandonWatch();
      await this.#instances.close((f) => {
        const r = reverted();
        return r !== null && r.key === f.key && r.at >= f.at;
      });
      unsubscribe();
    }
    if (traffic !== null)
      await log
        .record({ type: 'drill.traffic', ...this.#event(), traffic: traffic.stop() }, actor)
        .catch(() => undefined);
    if (this.#stopReason !== null)
      await log.record({ type: 'drill.stopped', ...this.#event(), reason: this.#stopReason }, actor);
    const phases = {
      before: sampler.tallies('before'),
      during: sampler.tallies('during'),
      after: sampler.tallies('after'),
    };
    const times = drillTimes({
      hits: hit,
      instances: this.#instances.faulted,
      failAt: seen.failAt,
      reverted: reverted(),
    });
    const { verdict, detail } = this.#verdict(phases, hit, times.timeToDetectMs, error);
    await log.record(
      {
        type: 'drill.finished',
        ...this.#event(),
        verdict,
        detail,
        ...times,
        score: resilienceScore(phases),
      },
      actor,
    );
    return verdict;
  }

  #verdict(
    phases: Record<'before' | 'during' | 'after', ReturnType<ProbeSampler['tallies']>>,
    hit: ActiveFault[],
    detectedMs: number | null,
    error: string | null,
  ): { verdict: DrillVerdict; detail: string } {
    if (this.#stopReason !== null) return { verdict: 'aborted', detail: this.#stopReason };
    if (error !== null) return { verdict: 'aborted', detail: `the drill could not go on: ${error}` };
    const missed = Object.entries(phases).flatMap(([phase, tallies]) =>
      tallies
        .filter((t) => !toleranceMet(t))
        .map((t) => `${t.probe} ${phase}: ${t.good}/${t.total} good, needs ${t.tolerance}%`),
    );
    const canaryFaults = this.gameDay.method.some((s) => s.faults.some((f) => f.target === 'canary'));
    const canaryInstances = this.#instances.faulted.some((f) => f.key === this.#d.keys.canary);
    if (((canaryFaults && hit.some((f) => f.hits > 0)) || canaryInstances) && detectedMs === null)
      missed.push('the contract did not fail the faulted canary');
    if (missed.length > 0) return { verdict: 'deviated', detail: `the hypothesis did not hold: ${missed.join('; ')}` };
    return {
      verdict: 'passed',
      detail: 'the steady state held before, during and after; every fault was detected and restored',
    };
  }

  async #step(step: number, def: DrillStep, seen: { revertedAt: number | null }): Promise<ActiveFault[]> {
    const { log, actor, leaseMs } = this.#d;
    const faults = def.faults;
    const instanceFaults = def.instanceFaults ?? [];
    const rules = faults.map((f, i): FaultRule => ({
      id: `${this.gameDay.name}/${this.run}/${step}.${i}`,
      key: this.#d.keys[f.target]!,
      effect: f.effect,
      percent: f.percent,
      ...(f.cohort !== undefined && { cohort: f.cohort }),
      ttlMs: Math.min(leaseMs, f.forMs),
    }));
    const started = Date.now();
    const until = (r: FaultRule, i: number) => started + faults[i]!.forMs;
    const instanceKeys = instanceFaults.map((f) => DrillRun.instanceKey(f, this.#d.keys)!);
    /** Stop faults not yet resumed, by tag, with when they end. */
    const stops = new Map(
      instanceFaults.flatMap((f, i) => (f.action === 'stop' ? [[`${step}.i${i}`, started + f.forMs] as const] : [])),
    );
    const instancesUntil = Math.max(0, ...instanceFaults.map((f) => started + f.forMs));
    for (const r of rules) this.active.add(r.id);
    let cleared: ActiveFault[] = [];
    let reason = 'their time ran out';
    try {
      if (rules.length > 0) {
        await this.#d.faults!.set(rules);
        await log.record({ type: 'drill.faultsSet', ...this.#event(), step, faults: rules }, actor);
      }
      await Promise.all(
        instanceFaults.map((f, i) =>
          this.#instances.apply(
            `${step}.i${i}`,
            step,
            instanceKeys[i]!,
            this.#d.instances.get(instanceKeys[i]!)!,
            f.action,
            f.count,
            f.action === 'stop' ? f.forMs : undefined,
          ),
        ),
      );
      const canary = faults.some((f) => f.target === 'canary') || instanceKeys.some((k) => k === this.#d.keys.canary);
      for (;;) {
        const now = Date.now();
        for (const [tag, end] of stops)
          if (end <= now) {
            stops.delete(tag);
            await this.#instances.resume(tag);
          }
        const live = rules.filter((r, i) => until(r, i) > now);
        if (live.length === 0 && instancesUntil <= now) break;
        if (canary && seen.revertedAt !== null && now >= seen.revertedAt + AFTER_REVERT_MS) {
          reason = 'the contract reverted the faulted canary';
          break;
        }
        if (this.#stop.signal.aborted) {
          reason = this.#stopReason ?? 'stopped';
          break;
        }
        const ends = [...live.map((r, i) => until(r, i)), ...stops.values(), instancesUntil].filter((t) => t > now);
        await this.#wait(Math.min(leaseMs / 3, ...ends.map((t) => t - now)));
        const renewAt = Date.now();
        const renew = rules
          .filter((r, i) => until(r, i) > renewAt)
          .map((r, i) => ({ ...r, ttlMs: Math.max(1, Math.min(leaseMs, until(r, i) - renewAt)) }));
        if (renew.length > 0 && !this.#stop.signal.aborted) await this.#d.faults!.set(renew);
      }
    } finally {
      // Every stop of this step ends with the step, whatever ended it.
      for (const tag of stops.keys()) await this.#instances.resume(tag);
      if (rules.length > 0) {
        cleared = await this.#d.faults!.clear(rules.map((r) => r.id)).catch(() => []);
        for (const r of rules) this.active.delete(r.id);
        await log.record({ type: 'drill.faultsCleared', ...this.#event(), step, faults: cleared, reason }, actor);
      }
    }
    return cleared;
  }

  /** Waits `ms`, or less when the drill is stopped. */
  #wait(ms: number): Promise<void> {
    if (ms <= 0 || this.#stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.#stop.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}
