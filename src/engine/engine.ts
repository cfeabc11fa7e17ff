import type { Logger } from 'pino';
import type { Command } from '../core/release/decision.ts';
import { CONTROLLER } from '../core/events.ts';
import { dependencyGraph, type DependencyGraph, type UnmetDependency } from '../core/graph/index.ts';
import { isActive, type ReleaseState, type ServiceState } from '../core/release/state.ts';
import type { DriverFactories } from '../drivers/factories.ts';
import type { FaultControl } from '../drivers/routers/types.ts';
import { driverSchemas } from '../drivers/registry.ts';
import { evidenceWarningsOf, parseSpecs, SpecError, type ServiceSpec } from '../spec/index.ts';
import type { LeaseTimings } from '../core/leases/lease-plan.ts';
import type { Fence, LeaseStore, Store, StoredRevision } from '../store/types.ts';
import { notFound, SluiceError } from '../errors.ts';
import { EventBus } from './event-bus.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { ReplicaTail, type ForwardedArgs } from './replica-tail.ts';
import { LeasedLogs, type ForwardedHandler } from './leased-logs.ts';
import { NotificationHub } from './notifications.ts';
import { ReleaseStarts } from './release-starts.ts';
import { applyOne, type ApplyContext, type ApplyOptions } from './apply-service.ts';
import { MigrationSteps } from '../migrations/migration-steps.ts';
import { breakingRefusal, factsOf, graphServices, unmetFor, type ServiceFacts } from './dependency-graph.ts';
export type { ApplyOptions } from './apply-service.ts';
import { ServiceController, type ControllerDeps, type InstanceFaulting, type SetFlag } from './service-controller.ts';
import type { ApplyResult } from '../views/apply-result.ts';
import { historyOf, statusOf, type ReleaseView, type ServiceStatus } from '../views/service-status.ts';

export type CommandName = Command['kind'] | 'undo';
const COMMANDS: readonly CommandName[] = ['pause', 'resume', 'promote', 'abort', 'retry', 'undo'];

export interface EngineOptions {
  store: Store;
  dataDir: string;
  log: Logger;
  /** The drivers specs may name (the registry's `registeredDrivers`). */
  drivers: DriverFactories;
  now?: () => number;
  tickMs?: number;
  drainTimeoutMs?: number;
  /** One of several replicas on a shared store: each service's release runs where its lease is held. */
  replica?: { id: string; instance: string; url: string | null; leases: LeaseStore; timings?: LeaseTimings };
  /** Performs setFlag steps (flags/flag-service.ts). */
  setFlag?: SetFlag;
  /** The bus committed events are published on, and the notifiers subscribed to it (both built by the composition root). */
  bus: EventBus;
  notifications: NotificationHub;
}

/** The control plane: one controller per service, the spec apply flow and the user's commands. */
export class Engine {
  readonly bus: EventBus;
  readonly #store: Store;
  readonly #deps: ControllerDeps;
  readonly #controllers = new Map<string, ServiceController>();
  readonly #notifications: NotificationHub;
  readonly #windowTimer: NodeJS.Timeout;
  readonly #migrations: MigrationSteps;
  readonly #starts: ReleaseStarts;
  readonly #applyContext: ApplyContext;
  readonly #replica: EngineOptions['replica'];
  #leases: LeaseKeeper | null = null;
  #tail: ReplicaTail | null = null;
  readonly #logs = new LeasedLogs();

  private constructor(o: EngineOptions) {
    this.#store = o.store;
    this.#replica = o.replica;
    this.bus = o.bus;
    this.#notifications = o.notifications;
    this.#notifications.reportFailuresTo((service, error) => {
      void this.#controllers
        .get(service)
        ?.record([{ type: 'driver.failed', driver: 'notifier', operation: 'create', error }], CONTROLLER)
        .catch(() => undefined);
    });
    this.#migrations = new MigrationSteps({
      store: o.store,
      log: o.log,
      record: async (service, events, actor) => void (await this.#controllers.get(service)?.record(events, actor)),
    });
    this.#starts = new ReleaseStarts({
      store: o.store,
      dataDir: o.dataDir,
      now: o.now ?? Date.now,
      log: o.log,
      migrations: this.#migrations,
      unmetDependencies: (spec, name) => this.#unmetDependencies(spec, name),
    });
    this.#windowTimer = setInterval(() => void this.#starts.startWaiting(this.#controllers.values()), 1000);
    this.#applyContext = {
      store: o.store,
      migrations: this.#migrations,
      starts: this.#starts,
      owned: (name, create) => this.#owned(name, create),
      open: (record) => ServiceController.open(record, this.#depsFor(record.name)),
      adopt: (name, c) => void this.#controllers.set(name, c),
      notifyFor: (name, spec) => this.#notifyFor(name, spec),
      unmetDependencies: (spec, name) => this.#unmetDependencies(spec, name),
    };
    // A release's old version stopped: its contract migration may run (release-migrations.ts).
    this.bus.subscribe((e) => {
      const c = e.type === 'target.stopped' ? this.#controllers.get(e.service) : undefined;
      if (c !== undefined && e.type === 'target.stopped') void this.#migrations.afterStop(c.state, e.key);
    });
    this.#deps = {
      store: o.store,
      bus: this.bus,
      now: o.now ?? Date.now,
      dataDir: o.dataDir,
      log: o.log,
      drivers: o.drivers,
      ...(o.tickMs !== undefined && { tickMs: o.tickMs }),
      ...(o.drainTimeoutMs !== undefined && { drainTimeoutMs: o.drainTimeoutMs }),
      ...(o.setFlag !== undefined && { setFlag: o.setFlag }),
    };
  }

  /** Opens every stored service: each resumes its release from the log and re-asserts its routes. */
  static async open(o: EngineOptions): Promise<Engine> {
    const engine = new Engine(o);
    if (o.replica !== undefined) {
      await engine.#keepLeases(o.replica);
      return engine;
    }
    for (const record of await o.store.services()) {
      engine.#controllers.set(record.name, await ServiceController.open(record, engine.#deps));
      engine.#notifyFor(record.name, record.spec as ServiceSpec);
    }
    return engine;
  }

  /** Replicated: controllers start and stop with this replica's leases. */
  async #keepLeases(r: NonNullable<EngineOptions['replica']>): Promise<void> {
    this.#leases = new LeaseKeeper({
      replica: r.id,
      instance: r.instance,
      url: r.url,
      store: this.#store,
      leases: r.leases,
      log: this.#deps.log,
      now: this.#deps.now,
      ...(r.timings !== undefined && { timings: r.timings }),
      also: () => this.#logs.names(),
      gained: async (service) => {
        const record = await this.#store.service(service);
        // A service being created here is opened by its apply, under the lease it just took.
        if (record === null || this.#controllers.has(service)) return;
        this.#controllers.set(service, await ServiceController.open(record, this.#depsFor(service)));
        this.#notifyFor(service, record.spec as ServiceSpec);
      },
      lost: async (service) => {
        const c = this.#controllers.get(service);
        this.#controllers.delete(service);
        await c?.close();
      },
    });
    await this.#leases.start();
    this.#tail = new ReplicaTail({
      replica: r.id,
      store: this.#store,
      leases: r.leases,
      bus: this.bus,
      log: this.#deps.log,
      now: this.#deps.now,
      runs: (service) =>
        this.#controllers.has(service) || (this.#logs.isLog(service) && this.#leases?.fence(service) != null),
      carryOut: async (service, command, args, actor) => {
        const handler = this.#logs.handler(command);
        if (handler !== undefined) await handler(service, args, actor);
        else if (command === 'signal')
          await this.signal(
            service,
            {
              signal: args.signal ?? '',
              ...(args.detail !== undefined && { detail: args.detail }),
              ...(args.source !== undefined && { source: args.source }),
            },
            actor,
            false,
          );
        else if (COMMANDS.includes(command as CommandName))
          await this.command(service, command as CommandName, args, actor, false);
        else
          throw new SluiceError('BAD_REQUEST', `"${command}" is not a command; valid: ${COMMANDS.join(', ')}, signal`);
      },
    });
    await this.#tail.start();
  }

  /** The controller's dependencies; replicated, with the fence of the lease held for the service. */
  #depsFor(service: string): ControllerDeps {
    const fence = this.#leases?.fence(service);
    if (this.#leases === null || fence === null || fence === undefined) return this.#deps;
    const leases = this.#leases;
    return { ...this.#deps, fence, mayAct: () => leases.mayAct(service, fence.epoch) };
  }

  /**
   * The controller of a service this replica may act for. Replicated: one whose lease is free is
   * taken now; one held by another replica is refused, naming it.
   */
  async #owned(name: string, create = false): Promise<ServiceController | undefined> {
    if (await this.#runsHere(name, create)) return this.#controllers.get(name);
    const held = (await this.#replica!.leases.leases()).find((l) => l.service === name);
    throw new SluiceError(
      'CONFLICT',
      `${name}'s release is run by replica ${held?.holder ?? '?'} (epoch ${held?.epoch ?? '?'}); send the request to that replica's API`,
    );
  }

  /** Whether this replica runs the service (taking its lease when it is free); false: another replica does. */
  async #runsHere(name: string, create = false): Promise<boolean> {
    if (this.#controllers.has(name) || this.#leases === null) return true;
    if (!create && (await this.#store.service(name)) === null) throw notFound(name);
    return this.#leases.claimNow(name);
  }

  /** Validate spec text without applying it. */
  lint(text: string, file: string): ServiceSpec[] {
    try {
      return parseSpecs(text, file, driverSchemas());
    } catch (err) {
      if (err instanceof SpecError) throw new SluiceError('SPEC_INVALID', err.message, { issues: err.issues });
      throw err;
    }
  }

  /**
   * Apply the Service documents in `text` as they are. Only for environments' own services, whose
   * gates the caller checked (environments.ts); a person's apply comes through ApplyEntry.
   */
  async apply(text: string, o: ApplyOptions): Promise<ApplyResult[]> {
    return this.applySpecs(this.lint(text, o.file), o);
  }

  /** Apply Service specs already read and validated (the API reads a text once: parseSpecText). */
  async applySpecs(specs: readonly ServiceSpec[], o: ApplyOptions): Promise<ApplyResult[]> {
    const results: ApplyResult[] = [];
    for (const spec of specs) results.push(await this.applyService(spec, o));
    return results;
  }

  /**
   * Apply one validated Service; ApplyEntry checked who may. The result warns when a step cannot
   * show a healthy canary in time at the traffic the service receives now (or its expectedRps).
   */
  async applyService(spec: ServiceSpec, o: ApplyOptions): Promise<ApplyResult> {
    const observed = (await this.#controllers.get(spec.metadata.name)?.observedRps()) ?? undefined;
    const warnings = evidenceWarningsOf(spec, observed);
    return { ...(await applyOne(this.#applyContext, spec, o)), ...(warnings.length > 0 && { warnings }) };
  }

  /** The state of `name` as its controller holds it, replayed from its log (null: not a service this replica runs). */
  serviceState(name: string): ServiceState | null {
    return this.#controllers.get(name)?.state ?? null;
  }

  /**
   * Release `name` again at an earlier revision, as a rollback Sluice decides by itself (a train's):
   * never refused for the dependents it leaves, since it is not a person's choice to weigh.
   */
  async rollBackTo(name: string, revisionKey: string, actor: string): Promise<void> {
    await this.#undo(this.#controller(name), revisionKey, actor, false);
  }

  /** The data plane's drill faults of `name`; undefined when its router cannot inject faults. */
  faultsOf(name: string): FaultControl | undefined {
    return this.#controller(name).faults();
  }

  /** Drills: revision `key` of `name`'s instances and how to fault them, or why its target cannot. */
  instanceFaultsOf(name: string, key: string): Promise<InstanceFaulting | string> {
    return this.#controller(name).instanceFaults(key);
  }

  /** Drills: requests and errors per revision of `name` in the last `windowMs` (null: no data for it). */
  trafficOf(name: string, keys: string[], windowMs: number) {
    return this.#controller(name).traffic(keys, windowMs);
  }

  /** Whether this server does the server's own duties: always alone; replicated, one live replica (lease-keeper.ts). */
  leadsServerDuties(): Promise<boolean> {
    return this.#leases === null ? Promise.resolve(true) : this.#leases.leadsServerDuties();
  }

  /** Whether this server acts for `name` (a scheduled drill, a flag's contract): alone, every name; replicated, the services whose lease it holds. */
  runs(name: string): boolean {
    return this.#leases === null || this.#controllers.has(name);
  }

  /**
   * Replicated: logs that are not services (a train's, `_train:<name>`) run under leases of their
   * own, as services' releases are: those `wanted` names are each taken by one live replica, and by
   * another within the lease time when it stops. Alone, this server runs them all.
   */
  leaseLogs(prefix: string, wanted: () => Iterable<string>): void {
    this.#logs.add(prefix, wanted);
  }

  /** Carry out `command` when another replica sends it on (`forward`) for a log or service this replica runs. */
  onForwarded(command: string, carryOut: ForwardedHandler): void {
    this.#logs.handle(command, carryOut);
  }

  /**
   * Whether this server may write to and act for log `name` now: alone, always (`{}`); replicated,
   * under the fence of the lease it holds and before its own deadline; null: it may not.
   */
  actingFence(name: string): { fence?: Fence } | null {
    if (this.#leases === null) return {};
    const fence = this.#leases.fence(name);
    return fence !== null && this.#leases.mayAct(name, fence.epoch) ? { fence } : null;
  }

  /** Take the lease of log `name` now unless another replica holds it live (alone: true). */
  async claimLog(name: string): Promise<boolean> {
    return this.#leases === null || (await this.#leases.claimNow(name));
  }

  /** Give up the lease of log `name` (nothing left to run there, e.g. a train that ended). */
  async releaseLog(name: string): Promise<void> {
    await this.#leases?.release(name);
  }

  /** The replica holding `name`'s lease, with its epoch (null: alone, or none). */
  async holderOf(name: string): Promise<{ replica: string; epoch: number } | null> {
    if (this.#replica === undefined) return null;
    const held = (await this.#replica.leases.leases()).find((l) => l.service === name);
    return held === undefined ? null : { replica: held.holder, epoch: held.epoch };
  }

  /** Replicated: send `command` on to the replica that runs `target`; resolves once it carried it out (BUSY: none answered). */
  async forward(target: string, command: string, args: ForwardedArgs, actor: string): Promise<void> {
    if (this.#tail === null)
      throw new SluiceError('CONFLICT', `${target}: a server alone has no replica to send on to`);
    await this.#tail.forward(target, command, args, actor);
  }

  /** Whether this server runs service `name` now, taking its lease when it is free (alone: every service it knows). */
  takesOn(name: string): Promise<boolean> {
    return this.#runsHere(name);
  }

  /**
   * The state of each named service: this replica's controller's; replicated, else the store's
   * projection of its owner's (as committed with its last events). Absent: no such service.
   */
  async statesOf(names: readonly string[]): Promise<Map<string, ServiceState>> {
    const states = new Map<string, ServiceState>();
    for (const n of names) {
      const own = this.#controllers.get(n)?.state;
      if (own !== undefined) states.set(n, own);
    }
    if (this.#leases === null || states.size === names.length) return states;
    const missing = names.filter((n) => !states.has(n));
    const projected = new Map((await this.#store.states(missing)).map((st) => [st.service, st]));
    for (const n of names)
      if (!states.has(n) && projected.has(n) && (await this.#store.service(n)) !== null)
        states.set(n, projected.get(n)!);
    return states;
  }

  /** The names of the services this engine runs. */
  serviceNames(): string[] {
    return [...this.#controllers.keys()];
  }

  /** The release in progress or last ended of `name` (null: none yet). */
  releaseOf(name: string): ReleaseState | null {
    return this.#controller(name).state.release;
  }

  #controller(name: string): ServiceController {
    const c = this.#controllers.get(name);
    if (c === undefined) throw notFound(name);
    return c;
  }

  /** Replicated: a command for a service another replica runs is sent on to it through the log (`forward`). */
  async command(
    name: string,
    kind: CommandName,
    args: { full?: boolean; toRevision?: string; reason?: string },
    actor: string,
    forward = true,
  ): Promise<ServiceStatus> {
    if (!(await this.#runsHere(name))) {
      if (!forward) await this.#owned(name);
      await this.#tail!.forward(name, kind, args, actor);
      return this.status(name);
    }
    const c = this.#controller(name);
    const pending = c.state.waiting;
    if (pending && (kind === 'abort' || kind === 'undo') && !isActive(c.state.release)) {
      await c.record(
        [
          {
            type: 'release.waitEnded',
            revision: pending.revision,
            outcome: 'cancelled',
            detail: args.reason ?? `cancelled by ${actor}`,
          },
        ],
        actor,
      );
      return this.status(name);
    }
    if (kind === 'undo') {
      await this.#undo(c, args.toRevision, actor);
    } else {
      const command: Command =
        kind === 'promote'
          ? { kind, full: args.full === true, ...(args.reason !== undefined && { reason: args.reason }) }
          : kind === 'abort'
            ? args.reason !== undefined
              ? { kind, reason: args.reason }
              : { kind }
            : { kind };
      const d = await c.input({ type: 'command', command }, actor);
      if (d.refused) throw new SluiceError(d.refused.code === 'conflict' ? 'CONFLICT' : 'NOT_FOUND', d.refused.message);
    }
    return this.status(name);
  }

  /** Record an external signal; the release in progress (if any) counts it for its signal rules. */
  async signal(
    name: string,
    body: { signal: string; detail?: string; source?: string },
    actor: string,
    forward = true,
  ): Promise<{ signal: string; counted: boolean; release: string | null }> {
    if (!(await this.#runsHere(name))) {
      if (!forward) await this.#owned(name);
      await this.#tail!.forward(name, 'signal', body, actor);
      const r = (await this.#stateOf(name)).release;
      return { signal: body.signal, counted: isActive(r), release: isActive(r) ? r.id : null };
    }
    const c = this.#controller(name);
    await c.input(
      { type: 'signal', signal: body.signal, detail: body.detail ?? null, source: body.source ?? null },
      actor,
    );
    const r = c.state.release;
    return { signal: body.signal, counted: isActive(r), release: isActive(r) ? r.id : null };
  }

  /** Undo a release in progress (abort), or release an earlier revision again (the previous stable one by default). */
  async #undo(
    c: ServiceController,
    toRevision: string | undefined,
    actor: string,
    checkDependents = true,
  ): Promise<void> {
    if (isActive(c.state.release) && toRevision === undefined) {
      await c.input({ type: 'command', command: { kind: 'abort', reason: `undone by ${actor}` } }, actor);
      return;
    }
    let key = toRevision;
    if (key === undefined) {
      const stableKey = c.state.stable?.key;
      const last = (await this.#store.releases(c.service)).find(
        (r) => r.status === 'Succeeded' && r.to.key === stableKey && r.from !== null,
      );
      key = last?.from?.key;
      if (key === undefined)
        throw new SluiceError(
          'CONFLICT',
          `${c.service} has no previous revision to go back to; name one with --to-revision N`,
        );
    }
    const rev = await this.#store.revision(c.service, key);
    if (rev === null) {
      const known = (await this.#store.revisions(c.service)).map((r) => `${r.key} (${r.version})`).join(', ');
      throw new SluiceError('NOT_FOUND', `${c.service} has no revision ${key}; known revisions: ${known}`);
    }
    // A person's rollback may not leave a running dependent outside its range: refused before anything changes.
    const breaking = checkDependents ? breakingRefusal(c.service, rev.version, await this.serviceFacts()) : null;
    if (breaking !== null) throw new SluiceError('CONFLICT', breaking.message, { dependents: breaking.dependents });
    const stable = c.state.stable;
    const schema = stable === null ? null : await this.#migrations.undoRefusal(c.service, stable, rev.version);
    if (schema !== null)
      throw new SluiceError('CONFLICT', `going back to ${c.service} ${rev.version} is refused: ${schema}`);
    const existing = await this.#store.service(c.service);
    await this.#store.putService({ ...existing!, spec: rev.spec, revisionKey: rev.key, updatedAt: Date.now() });
    this.#notifyFor(c.service, rev.spec as ServiceSpec);
    await this.#starts.start(c, 'undo', rev, actor);
  }

  /** Replicated: every service's status, from the store's projections for those another replica runs. */
  async listAll(): Promise<ServiceStatus[]> {
    if (this.#leases === null) return this.list();
    const names = new Set((await this.#store.services()).map((s) => s.name));
    const states = (await this.#store.states()).filter((st) => names.has(st.service));
    return states
      .map((st) => statusOf(this.#controllers.get(st.service)?.state ?? st))
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  /** The dependencies of `spec` not running a version in range now. */
  async #unmetDependencies(spec: ServiceSpec, name: string): Promise<UnmetDependency[]> {
    return (spec.spec.dependsOn ?? []).length === 0 ? [] : unmetFor(spec, name, await this.serviceFacts());
  }

  /** The dependency graph: services, the versions they run, edges with their ranges, violations. */
  async graph(): Promise<DependencyGraph> {
    return dependencyGraph(graphServices(await this.serviceFacts()));
  }

  /**
   * Every service: its stable and releasing versions (from the log), its current spec, its
   * revisions' versions. Replicated, those another replica runs as the store projected them.
   */
  async serviceFacts(): Promise<ServiceFacts[]> {
    if (this.#leases === null) return factsOf([...this.#controllers.values()], this.#store);
    const states = await this.statesOf((await this.#store.services()).map((s) => s.name));
    return factsOf(
      [...states].map(([service, state]) => ({ service, state })),
      this.#store,
    );
  }

  list(): ServiceStatus[] {
    return [...this.#controllers.values()]
      .map((c) => statusOf(c.state))
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  async status(name: string): Promise<ServiceStatus> {
    const state = this.#leases === null ? this.#controller(name).state : await this.#stateOf(name);
    const status = statusOf(state);
    const controller = await this.#controllerOf(name);
    if (status.lastRollback === null) {
      const past = (await this.#store.releases(name, 50)).find((r) => r.rollback !== null);
      if (past) return { ...statusOf(state, past), ...controller };
    }
    return { ...status, ...controller };
  }

  /** Replicated: the state of a service this replica runs, else as the store projected it from the log. */
  async #stateOf(name: string): Promise<ServiceController['state']> {
    const own = this.#controllers.get(name);
    if (own !== undefined) return own.state;
    const [st] = await this.#store.states([name]);
    if (st === undefined || (await this.#store.service(name)) === null) throw notFound(name);
    return st;
  }

  /** Throws NOT_FOUND for a service this server does not know (replicated: not in the store). */
  async #known(name: string): Promise<void> {
    if (this.#leases === null) this.#controller(name);
    else if ((await this.#store.service(name)) === null) throw notFound(name);
  }

  /** Replicated: which replica runs the service's release, under which epoch (null: none holds it live). */
  async #controllerOf(name: string): Promise<{ controller?: { replica: string; epoch: number } | null }> {
    if (this.#leases === null) return {};
    const fence = this.#leases.fence(name);
    if (fence !== null) return { controller: { replica: fence.holder, epoch: fence.epoch } };
    const held = (await this.#replica!.leases.leases()).find((l) => l.service === name);
    return { controller: held === undefined ? null : { replica: held.holder, epoch: held.epoch } };
  }

  async history(name: string): Promise<ReleaseView[]> {
    await this.#known(name);
    return historyOf(await this.#store.releases(name));
  }

  async revisions(name: string): Promise<StoredRevision[]> {
    await this.#known(name);
    return this.#store.revisions(name);
  }

  /** Stop the service's instances and data plane and forget it (its history stays in the log). */
  async delete(name: string, actor: string): Promise<void> {
    await this.#owned(name);
    const c = this.#controller(name);
    this.#controllers.delete(name);
    await c.shutdown();
    await c.record([{ type: 'service.deleted' }], actor);
    this.#notifications.configure(name, []);
    await this.#store.deleteService(name);
    await this.#leases?.release(name);
  }

  /** Specs stored before notifications existed have none. */
  #notifyFor(name: string, spec: ServiceSpec): void {
    this.#notifications.configure(name, spec.spec.notifications ?? []);
  }

  /** Notifiers for events logged under a name that runs no controller (an environment's base service). */
  configureNotifications(name: string, configs: ServiceSpec['spec']['notifications']): void {
    this.#notifications.configure(name, configs);
  }

  /** Detach from everything; instances and data planes keep serving for the next start. */
  async close(): Promise<void> {
    clearInterval(this.#windowTimer);
    await this.#tail?.close();
    await this.#leases?.close();
    await Promise.allSettled([...this.#controllers.values()].map((c) => c.close()));
    this.#controllers.clear();
    await this.#notifications.close();
  }
}
