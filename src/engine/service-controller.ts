import { join } from 'node:path';
import type { Logger } from 'pino';
import { analysisDue, decide } from '../core/release/decide.ts';
import type { Action, Decision, Input } from '../core/release/decision.ts';
import { CONTROLLER, type EventBody } from '../core/events.ts';
import { replay } from '../core/release/reduce.ts';
import { isRoutineEvaluation } from '../core/retention/routine-evaluation.ts';
import { emptyState, type ServiceState } from '../core/release/state.ts';
import { canaryPlan, type ReleasePlan, type ReleaseStep, type SmokeCheck } from '../core/release/strategy.ts';
import type { Instance } from '../core/types.ts';
import type { DriverFactories } from '../drivers/factories.ts';
import type { DriverContext } from '../drivers/types.ts';
import type { MetricsProvider } from '../drivers/metrics/types.ts';
import type { FaultControl, RouterSignal } from '../drivers/routers/types.ts';
import type { InstanceFault, Target, TargetRevision } from '../drivers/targets/types.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Strategy } from '../spec/strategy-schema.ts';
import type { Fence, Store, StoredService } from '../store/types.ts';
import type { EventBus } from './event-bus.ts';
import { EvidenceWatch, watchedKey } from './evidence-watch.ts';
import { collectObservation } from './observe.ts';
import { PreviewListener } from './preview-listener.ts';
import { ProbeRunner } from './probe-runner.ts';
import { messageOf, withRetry } from './retry.ts';
import { targetRevisionOf } from './revision-config.ts';
import { RouteKeeper } from './route-keeper.ts';
import { RouteReadBack } from './route-read-back.ts';
import { runSmoke } from './smoke-runner.ts';
import { SerialQueue } from '../core/serial-queue.ts';

export interface ControllerDeps {
  store: Store;
  bus: EventBus;
  now: () => number;
  dataDir: string;
  log: Logger;
  /** The drivers a spec names are made by these (the registry's, passed in by the composition root). */
  drivers: DriverFactories;
  /** How often the loop looks at the release (timed pauses, analysis due, routes to re-assert). */
  tickMs?: number;
  /** Longest wait for in-flight requests to finish before a revision is stopped. */
  drainTimeoutMs?: number;
  /** Replicated: the lease this controller acts under; every commit carries it (the store refuses a stale epoch). */
  fence?: Fence;
  /** Replicated: whether the lease still stands by this replica's clock; checked before every router actuation. */
  mayAct?: () => boolean;
  /** Performs a setFlag step (the server's FlagService); absent: such steps do nothing. */
  setFlag?: SetFlag;
}

export type SetFlag = (
  a: { flag: string; environment: string; percent: number; rule: string | null; reason: string },
  actor: string,
) => Promise<unknown>;

/**
 * One service's controller: asks the core what to do, records the events, performs the actions
 * through the drivers and feeds their outcomes back. Decisions are serialised; driver calls that
 * take time (starting, stopping) run beside the loop, so a rollback never waits behind them.
 */
/** One revision's instances, for a drill's instance faults (docs/drills.md). */
export interface InstanceFaulting {
  instances(): Instance[];
  /** `ttlMs`: a stop the target itself resumes then, should the controller be gone. */
  fault(instance: Instance, fault: InstanceFault, ttlMs?: number): Promise<void>;
}

export class ServiceController {
  state: ServiceState;
  readonly service: string;
  readonly #deps: ControllerDeps;
  readonly #ctx: DriverContext;
  readonly #targets = new Map<string, Target>();
  readonly #starts = new Map<string, { abort: AbortController; done: Promise<void> }>();
  readonly #stops = new Map<string, Promise<void>>();
  #routes: RouteKeeper;
  /** Reads the served table back each tick, beside the loop; a drift is recorded and re-asserted. */
  readonly #readBack: RouteReadBack;
  /** The router reported its data plane dead and not yet started again. */
  #dataPlaneDown = false;
  #metrics: MetricsProvider;
  readonly #probes: ProbeRunner;
  /** Smoke checks running; aborted (their processes killed) when the controller stops. */
  readonly #smokes = new Set<AbortController>();
  #preview: PreviewListener | null;
  readonly #lock = new SerialQueue();
  #timer: NodeJS.Timeout | undefined;
  #measuring = false;
  /** A wake-up came while a measurement was in flight: measure again right after it. */
  #measureAgain = false;
  /** Observes at once when the canary's bad answers arrive (providers that can watch). */
  readonly #evidence = new EvidenceWatch(() => this.#wakeUp());
  #ticking = false;
  #closed = false;
  /** When an evaluation was last recorded (null: none since this controller opened); routine ones between heartbeats are not. */
  #evaluationRecordedAt: number | null = null;

  constructor(record: StoredService, deps: ControllerDeps, state?: ServiceState) {
    this.service = record.name;
    this.#deps = deps;
    this.state = state ?? emptyState(record.name);
    const log = deps.log.child({ service: record.name });
    this.#ctx = {
      service: record.name,
      serviceDir: join(deps.dataDir, 'services', record.name),
      log: (level, message, detail) => log[level](detail ?? {}, message),
    };
    const spec = record.spec as ServiceSpec;
    this.#routes = this.#routeKeeper(spec);
    this.#readBack = new RouteReadBack(() => this.#routes, {
      drifted: (differences) => this.record([{ type: 'router.drifted', differences }]),
      failed: (error) => this.#fail('router', 'read the served table back', error),
      hold: () => this.#dataPlaneDown || this.#closed,
    });
    this.#metrics = deps.drivers.metrics(spec.spec.metrics, this.#ctx);
    this.#probes = new ProbeRunner((report) => {
      void this.input({ type: 'probeFailed', ...report }, CONTROLLER).catch((err) =>
        this.#fail('target', 'probe report', err),
      );
    });
    this.#preview = this.#previewListener(spec);
  }

  /** Only a blue-green spec with a preview listener has one (it also cleans up after an earlier controller). */
  #previewListener(spec: ServiceSpec): PreviewListener | null {
    const preview = (spec.spec.strategy as Partial<Strategy>).plan?.blueGreen?.preview;
    return preview !== undefined && 'listen' in preview
      ? new PreviewListener(spec.spec.router, this.#ctx, this.#deps.drivers)
      : null;
  }

  /** Rebuild the state from the log, re-attach to what is running, re-assert the routes, start the loop. */
  static async open(record: StoredService, deps: ControllerDeps): Promise<ServiceController> {
    const events = await deps.store.events({ service: record.name });
    const c = new ServiceController(record, deps, replay(emptyState(record.name), events));
    c.#resume();
    c.#timer = setInterval(() => c.#tick(), deps.tickMs ?? 100);
    return c;
  }

  /**
   * Requests per second the service received over the last minute (all revisions taking traffic),
   * for apply's evidence check; null when unknown. Bounded by `timeoutMs`: never holds up an apply.
   */
  async observedRps(timeoutMs = 1000): Promise<number | null> {
    const keys = Object.entries(this.state.weights)
      .filter(([, w]) => w > 0)
      .map(([key]) => key);
    if (keys.length === 0) return null;
    const windowMs = 60_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    try {
      const measured = await Promise.race([this.#metrics.collect(keys, windowMs).catch(() => null), late]);
      if (measured === null) return null;
      let requests = 0;
      for (const m of Object.values(measured)) if (m.kind === 'stats') requests += m.stats.requests;
      return requests > 0 ? requests / (windowMs / 1000) : null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The data plane's drill faults (docs/drills.md), when the service's router can inject them. */
  faults(): FaultControl | undefined {
    return this.#routes.faults;
  }

  /** Drills: requests and errors per revision in the last `windowMs`, from the metrics provider (null: no data). */
  async traffic(
    keys: string[],
    windowMs: number,
  ): Promise<Record<string, { requests: number; errors: number } | null>> {
    const measured = await this.#metrics.collect(keys, windowMs).catch(() => ({}) as Record<string, never>);
    return Object.fromEntries(
      keys.map((k) => {
        const m = measured[k];
        return [k, m?.kind === 'stats' ? { requests: m.stats.requests, errors: m.stats.errors } : null];
      }),
    );
  }

  /**
   * Drills: revision `key`'s instances as the controller holds them, and its target's way to fault
   * one; a string says why its target cannot (it holds no process of the revision's).
   */
  async instanceFaults(key: string): Promise<InstanceFaulting | string> {
    const { target, revision } = await this.#revision(key);
    const driver = (revision.config as { driver?: string }).driver ?? 'unknown';
    if (target.faultInstance === undefined)
      return `revision ${key}'s target (driver: ${driver}) holds no process of its instances, so it cannot kill, stop or restart them; instance faults need driver: process`;
    return {
      instances: () => this.state.runtimes[key]?.instances ?? [],
      fault: (instance, fault, ttlMs) =>
        target.faultInstance!(revision, instance, fault, ttlMs === undefined ? {} : { ttlMs }),
    };
  }

  /** A spec with a new router or metrics config replaces those drivers. */
  reconfigure(record: StoredService): void {
    const spec = record.spec as ServiceSpec;
    this.#preview ??= this.#previewListener(spec);
    void this.#metrics.close().catch((err) => this.#fail('metrics', 'close', err));
    this.#metrics = this.#deps.drivers.metrics(spec.spec.metrics, this.#ctx);
    this.#syncEvidence();
    if (this.#routes.sameConfig(spec.spec.router)) return;
    // The new router takes over the same data plane; a driver re-created with a changed config
    // (a new listen address) reconciles its data plane itself on the next apply.
    void this.#routes.close().catch((err) => this.#fail('router', 'close', err));
    this.#routes = this.#routeKeeper(spec);
    void this.#routes.sync().catch((err) => this.#fail('router', 'apply routes', err));
  }

  /** Feed one input to the core; records its events and performs its actions. */
  async input(given: Input, actor: string): Promise<Decision> {
    const input =
      given.type === 'startRelease' && given.plan === undefined
        ? { ...given, plan: await this.#planOf(given.to.key, given.steps) }
        : given;
    const decision = await this.#exclusive(async () => {
      const now = this.#deps.now();
      const d = decide(this.state, input, now, actor);
      if (
        input.type === 'observation' &&
        isRoutineEvaluation(this.state.release, d.events, this.#evaluationRecordedAt, now)
      ) {
        // Kept in memory only (core/retention): it changes no decision, and a heartbeat records one.
        this.state = replay(
          this.state,
          d.events.map((e) => ({ ...e, service: this.service, at: now, actor, seq: 0 })),
        );
        return d;
      }
      await this.#record(d.events, actor, now);
      if (d.events.some((e) => e.type === 'analysis.evaluated')) this.#evaluationRecordedAt = now;
      return d;
    });
    await this.#perform(decision.actions);
    return decision;
  }

  /** Record facts the engine observed itself (a driver failure). */
  async record(events: EventBody[], actor = CONTROLLER): Promise<void> {
    await this.#exclusive(() => this.#record(events, actor, this.#deps.now()));
  }

  async #record(bodies: EventBody[], actor: string, now: number): Promise<void> {
    if (bodies.length === 0) return;
    // The projection committed with the events is the state after them.
    const after = replay(
      this.state,
      bodies.map((b) => ({ ...b, service: this.service, at: now, actor, seq: 0 })),
    );
    const stored = await this.#deps.store.commit(
      this.service,
      bodies.map((b) => ({ ...b, at: now, actor })),
      after,
      this.#deps.fence,
    );
    this.state = replay(this.state, stored);
    this.#deps.bus.publish(stored);
    this.#syncEvidence();
  }

  /** One watch on the canary's bad answers while the core would analyse it; none otherwise. */
  #syncEvidence(): void {
    if (this.#closed) this.#evidence.stop();
    else this.#evidence.sync(this.#metrics, watchedKey(this.state));
  }

  /** The watch saw new bad answers: judge them now rather than at the next interval. */
  #wakeUp(): void {
    if (this.#closed || watchedKey(this.state) === null) return;
    if (this.#measuring) this.#measureAgain = true;
    else this.#measure();
  }

  /**
   * Collect an observation and feed it to the core, one at a time: on the interval (#tick) and on
   * a wake-up (the core does not mind an early one). A wake-up during a measurement runs another
   * right after it, so the evidence that woke it is judged.
   */
  #measure(): void {
    this.#measuring = true;
    this.#measureAgain = false;
    void collectObservation(this.state, this.#metrics, this.#deps.now())
      .then((observation) => this.input({ type: 'observation', observation }, CONTROLLER))
      .catch((err) => this.#fail('metrics', 'collect', err))
      .finally(() => {
        this.#measuring = false;
        if (this.#measureAgain) {
          this.#measureAgain = false;
          this.#wakeUp();
        }
      });
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock.run(fn);
  }

  /** A release's plan comes from its revision's spec (a revision stored before plans existed runs its steps as a canary). */
  async #planOf(key: string, steps: ReleaseStep[]): Promise<ReleasePlan> {
    const stored = await this.#deps.store.revision(this.service, key);
    return (
      ((stored?.spec as ServiceSpec | undefined)?.spec.strategy as Partial<Strategy> | undefined)?.plan ??
      canaryPlan(steps)
    );
  }

  async #perform(actions: Action[]): Promise<void> {
    for (const a of actions) {
      if (a.kind === 'setWeights' || a.kind === 'setRoutes') {
        // A replica past its lease deadline never actuates: the next owner re-asserts the table.
        if (!this.#mayAct()) continue;
        // Awaited: a rollback's weights are in force before anything else happens. The keeper
        // reports every table the router accepted as `weightsApplied`.
        await this.#routes.sync();
      } else if (a.kind === 'startTarget') {
        this.#startTarget(a.ref.key);
      } else if (a.kind === 'runSmoke') {
        this.#runSmoke(a.index, a.check, a.timeoutMs);
      } else if (a.kind === 'setFlag') {
        this.#setFlag(a);
      } else {
        this.#stopTarget(a.key, a.drain);
      }
    }
  }

  /** Beside the loop, by the flags' own log (docs/flags.md); a failure is logged and the release goes on. */
  #setFlag(a: Extract<Action, { kind: 'setFlag' }>): void {
    const set = this.#deps.setFlag;
    if (set === undefined) return;
    set(a, CONTROLLER).catch((err: unknown) => {
      this.#deps.log.warn({ err, service: this.service, flag: a.flag }, `setFlag step: ${(err as Error).message}`);
    });
  }

  /** Beside the loop: a smoke check never holds up a decision, least of all a rollback. */
  #runSmoke(index: number, check: SmokeCheck, timeoutMs: number): void {
    const abort = new AbortController();
    this.#smokes.add(abort);
    void (async () => {
      const r = this.state.release;
      const stored = r ? await this.#deps.store.revision(this.service, r.to.key) : null;
      const env: Record<string, string> = { SLUICE_SERVICE: this.service };
      if (r) Object.assign(env, { SLUICE_VERSION: r.to.version, SLUICE_REVISION: r.to.key });
      const url = r ? this.state.runtimes[r.to.key]?.instances[0]?.url : undefined;
      if (url !== undefined) env.SLUICE_CANARY_URL = url;
      const outcome = await runSmoke(check, timeoutMs, {
        cwd: stored?.baseDir ?? process.cwd(),
        env,
        signal: abort.signal,
      });
      // A check cut short by a stopping controller is run again by the next one (see #resume).
      if (!abort.signal.aborted) await this.input({ type: 'smokeResult', index, ...outcome }, CONTROLLER);
    })()
      .catch((err) => this.#fail('target', `smoke step ${index + 1}`, err))
      .finally(() => this.#smokes.delete(abort));
  }

  #target(driver: string): Target {
    let t = this.#targets.get(driver);
    if (t === undefined) {
      t = this.#deps.drivers.target(driver, this.#ctx);
      t.onSignal(
        (s) =>
          void this.input({ type: 'targetCrashed', ...s }, CONTROLLER).catch((err) =>
            this.#fail('target', 'crash report', err),
          ),
      );
      this.#targets.set(driver, t);
    }
    return t;
  }

  async #revision(key: string): Promise<{ target: Target; revision: TargetRevision }> {
    const stored = await this.#deps.store.revision(this.service, key);
    if (stored === null) throw new Error(`revision ${key} of ${this.service} is not in the store`);
    const { driver, revision } = targetRevisionOf(stored);
    return { target: this.#target(driver), revision };
  }

  #startTarget(key: string): void {
    const abort = new AbortController();
    const done = (async () => {
      try {
        const { target, revision } = await this.#revision(key);
        const instances = await target.start(revision, abort.signal);
        await this.input({ type: 'targetReady', key, instances }, CONTROLLER);
      } catch (err) {
        await this.input({ type: 'targetFailed', key, error: messageOf(err) }, CONTROLLER).catch(() => undefined);
      } finally {
        this.#starts.delete(key);
      }
    })();
    this.#starts.set(key, { abort, done });
  }

  #stopTarget(key: string, drain: boolean): void {
    if (this.#stops.has(key)) return;
    const done = (async () => {
      const starting = this.#starts.get(key);
      if (starting) {
        starting.abort.abort();
        await starting.done;
      }
      if (drain) await this.#routes.drain(key, this.#deps.drainTimeoutMs ?? 10_000);
      let error: string | null = null;
      try {
        const instances = this.state.runtimes[key]?.instances ?? [];
        const { target, revision } = await this.#revision(key);
        await withRetry(() => target.stop(revision, instances));
      } catch (err) {
        error = messageOf(err);
        await this.#fail('target', `stop revision ${key}`, err);
      }
      await this.input({ type: 'targetStopped', key, error }, CONTROLLER);
      await this.#routes.sync();
    })().finally(() => this.#stops.delete(key));
    this.#stops.set(key, done);
  }

  #mayAct(): boolean {
    return !this.#closed && (this.#deps.mayAct?.() ?? true);
  }

  #resume(): void {
    // A smoke check that was running when the controller stopped has no one waiting for it: run it again.
    const r = this.state.release;
    const step = r?.smoke && r.smoke.ok === null ? r.steps[r.smoke.index] : undefined;
    if (r?.smoke && step?.kind === 'smoke' && r.stepIndex === r.smoke.index)
      this.#runSmoke(r.smoke.index, step.check, step.timeoutMs);
    for (const rt of Object.values(this.state.runtimes)) {
      if (rt.status === 'starting') this.#startTarget(rt.key);
      else if (rt.status === 'stopping') this.#stopTarget(rt.key, false);
      else if (rt.status === 'ready') void this.#adopt(rt.key, rt.instances);
    }
    void this.#routes.sync().catch((err) => this.#fail('router', 'apply routes', err));
  }

  async #adopt(key: string, instances: Instance[]): Promise<void> {
    try {
      const { target, revision } = await this.#revision(key);
      const live = await target.adopt(revision, instances);
      if (live.length === 0)
        await this.input(
          { type: 'targetFailed', key, error: 'no instance survived the controller restart' },
          CONTROLLER,
        );
      else if (JSON.stringify(live) !== JSON.stringify(instances))
        await this.input({ type: 'targetReady', key, instances: live }, CONTROLLER);
    } catch (err) {
      await this.#fail('target', `adopt revision ${key}`, err);
    }
  }

  async #tick(): Promise<void> {
    // A slow tick (a busy machine, a slow router) is not stacked on by the next one.
    // Past its lease deadline a replica neither decides nor actuates: the next owner resumes from the log.
    if (this.#closed || this.#ticking || !this.#mayAct()) return;
    this.#ticking = true;
    try {
      const now = this.#deps.now();
      if (!this.#measuring && analysisDue(this.state, now)) this.#measure();
      await this.input({ type: 'tick' }, CONTROLLER);
      this.#syncEvidence();
      if (!this.#routes.inSync() && this.#mayAct()) await this.#routes.sync();
      this.#probes.sync(this.state);
      this.#readBack.poll();
      void this.#preview?.sync(this.state, (op, err) => this.#fail('router', op, err));
    } catch (err) {
      this.#deps.log.error({ service: this.service, err: messageOf(err) }, 'controller tick failed');
    } finally {
      this.#ticking = false;
    }
  }

  async #fail(driver: 'target' | 'router' | 'metrics', operation: string, err: unknown): Promise<void> {
    const error = messageOf(err);
    this.#deps.log.warn({ service: this.service, driver, operation, error }, 'driver call failed');
    await this.record([{ type: 'driver.failed', driver, operation, error }]).catch(() => undefined);
  }

  #routeKeeper(spec: ServiceSpec): RouteKeeper {
    const router = this.#deps.drivers.router(spec.spec.router, this.#ctx);
    // Routers that run their own data plane process supervise it and say when it died or is back.
    router.onSignal?.((signal) => this.#routerSignal(signal));
    return new RouteKeeper(router, spec.spec.router, {
      now: this.#deps.now,
      current: () => this.state,
      applied: (weights) => this.input({ type: 'weightsApplied', weights }, CONTROLLER).then(() => undefined),
      failed: (op, err) => this.#fail('router', op, err),
      hosts: (outcome, weights) =>
        this.input({ type: 'hostsApplied', weights, ...outcome }, CONTROLLER).then(() => undefined),
      ...(this.#deps.fence !== undefined && { epoch: this.#deps.fence.epoch }),
    });
  }

  #routerSignal(signal: RouterSignal): void {
    if (this.#closed) return;
    if (signal.kind === 'died') {
      this.#dataPlaneDown = true;
      void this.input({ type: 'routerDied', pid: signal.pid, detail: signal.detail }, CONTROLLER).catch((err) =>
        this.#fail('router', "report the data plane's death", err),
      );
    } else if (signal.kind === 'restarted') {
      this.#dataPlaneDown = false;
      void this.record([{ type: 'router.restarted', pid: signal.pid, downMs: signal.downMs }]).catch(() => undefined);
    } else {
      void this.#fail('router', 'start the data plane again', signal.error);
    }
  }

  /** Stop the loop and detach from the drivers; instances and the data plane keep running. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#evidence.stop();
    this.#probes.stop();
    for (const smoke of this.#smokes) smoke.abort();
    await Promise.allSettled([...this.#starts.values()].map((s) => s.done));
    await Promise.allSettled([
      this.#routes.close(),
      this.#metrics.close(),
      this.#preview?.close(),
      ...[...this.#targets.values()].map((t) => t.close()),
    ]);
  }

  /** Stop everything this service runs: its instances and its data plane. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#evidence.stop();
    this.#probes.stop();
    for (const smoke of this.#smokes) smoke.abort();
    for (const s of this.#starts.values()) s.abort.abort();
    await Promise.allSettled([...this.#starts.values()].map((s) => s.done));
    await Promise.allSettled([...this.#stops.values()]);
    for (const rt of Object.values(this.state.runtimes)) {
      try {
        const { target, revision } = await this.#revision(rt.key);
        await target.stop(revision, rt.instances);
      } catch (err) {
        this.#deps.log.warn({ service: this.service, err: messageOf(err) }, 'stopping an instance failed');
      }
    }
    await Promise.allSettled([
      this.#routes.shutdown(),
      this.#metrics.close(),
      this.#preview?.shutdown(),
      ...[...this.#targets.values()].map((t) => t.close()),
    ]);
  }
}
