import type { Logger } from 'pino';
import type { Command } from '../core/decision.ts';
import { CONTROLLER } from '../core/events.ts';
import { isActive, type ReleaseState } from '../core/state.ts';
import { driverSchemas } from '../drivers/registry.ts';
import { evidenceWarningsOf, parseSpecs, SpecError, templateHash, type ServiceSpec } from '../spec/index.ts';
import type { Store, StoredRevision, StoredService } from '../store/types.ts';
import { notFound, SluiceError } from './errors.ts';
import { EventBus } from './event-bus.ts';
import { NotificationHub } from './notifications.ts';
import { releaseWindow } from './release-policy.ts';
import { ServiceController, type ControllerDeps, type SetFlag } from './service-controller.ts';
import { historyOf, statusOf, type ReleaseView, type ServiceStatus } from './status.ts';

export interface ApplyOptions {
  file: string;
  /** Folder relative paths in the spec resolve against: the spec file's folder. */
  baseDir: string;
  actor: string;
  /** `skip`: the caller already checked the release window (an environment's promotion gates). */
  windows?: 'check' | 'skip';
}

export interface ApplyResult {
  service: string;
  /** created: first revision deployed; released: a release started; waiting: it starts when its release window opens; configured: non-template change; unchanged. */
  action: 'created' | 'released' | 'waiting' | 'configured' | 'unchanged';
  revision: string;
  version: string;
  message: string;
  /** Whether each step can show a healthy canary in time at the contract's expectedRps (`sluice lint`'s check). */
  warnings?: string[];
}

export type CommandName = Command['kind'] | 'undo';

export interface EngineOptions {
  store: Store;
  dataDir: string;
  log: Logger;
  now?: () => number;
  tickMs?: number;
  drainTimeoutMs?: number;
  /** Performs setFlag steps (flags/flag-service.ts). */
  setFlag?: SetFlag;
}

/** The control plane: one controller per service, the spec apply flow and the user's commands. */
export class Engine {
  readonly bus = new EventBus();
  readonly #store: Store;
  readonly #deps: ControllerDeps;
  readonly #controllers = new Map<string, ServiceController>();
  readonly #notifications: NotificationHub;
  readonly #windowTimer: NodeJS.Timeout;
  #checkingWindows = false;

  private constructor(o: EngineOptions) {
    this.#store = o.store;
    this.#notifications = new NotificationHub(this.bus, o.dataDir, o.log, (service, error) => {
      void this.#controllers.get(service)?.record([{ type: 'driver.failed', driver: 'notifier', operation: 'create', error }], CONTROLLER).catch(() => undefined);
    });
    this.#windowTimer = setInterval(() => void this.#startWaiting(), 1000);
    this.#deps = {
      store: o.store, bus: this.bus, now: o.now ?? Date.now, dataDir: o.dataDir, log: o.log,
      ...(o.tickMs !== undefined && { tickMs: o.tickMs }),
      ...(o.drainTimeoutMs !== undefined && { drainTimeoutMs: o.drainTimeoutMs }),
      ...(o.setFlag !== undefined && { setFlag: o.setFlag }),
    };
  }

  /** Opens every stored service: each resumes its release from the log and re-asserts its routes. */
  static async open(o: EngineOptions): Promise<Engine> {
    const engine = new Engine(o);
    for (const record of await o.store.services()) {
      engine.#controllers.set(record.name, await ServiceController.open(record, engine.#deps));
      engine.#notifyFor(record.name, record.spec as ServiceSpec);
    }
    return engine;
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
    return { ...(await this.#applyOne(spec, o)), ...(warnings.length > 0 && { warnings }) };
  }

  /** The release in progress or last ended of `name` (null: none yet). */
  releaseOf(name: string): ReleaseState | null {
    return this.#controller(name).state.release;
  }

  async #applyOne(spec: ServiceSpec, o: ApplyOptions): Promise<ApplyResult> {
    const name = spec.metadata.name;
    const hash = templateHash(spec);
    const existing = await this.#store.service(name);
    const revisions = await this.#store.revisions(name);
    const controller = this.#controllers.get(name);
    const current = revisions.find((r) => r.key === existing?.revisionKey);
    const stable = revisions.find((r) => r.key === controller?.state.stable?.key);
    const record = (revisionKey: string): StoredService => ({ name, spec, baseDir: o.baseDir, file: o.file, revisionKey, updatedAt: Date.now() });

    if (existing !== null && controller !== undefined && (current?.templateHash === hash || stable?.templateHash === hash)) {
      const same = (current?.templateHash === hash ? current : stable)!;
      const changed = JSON.stringify(existing.spec) !== JSON.stringify(spec) || existing.revisionKey !== same.key;
      await this.#store.putService(record(same.key));
      controller.reconfigure(record(same.key));
      this.#notifyFor(name, spec);
      await controller.record([{ type: 'spec.applied', revision: null, templateChanged: false, file: o.file }], o.actor);
      let message = changed ? 'configuration updated; no release needed' : 'unchanged';
      if (same === stable && isActive(controller.state.release)) {
        await controller.input({ type: 'command', command: { kind: 'abort', reason: `the stable spec (revision ${same.key}) was applied again` } }, o.actor);
        message = `matches the stable revision ${same.key}: the release in progress was aborted`;
      }
      return { service: name, action: changed ? 'configured' : 'unchanged', revision: same.key, version: same.version, message };
    }

    const number = revisions.reduce((n, r) => Math.max(n, r.number), 0) + 1;
    const revision: StoredRevision = {
      service: name, key: String(number), number, version: spec.spec.version, spec, templateHash: hash,
      baseDir: o.baseDir, file: o.file, createdAt: Date.now(), createdBy: o.actor,
    };
    await this.#store.putRevision(revision);
    await this.#store.putService(record(revision.key));
    let c = controller;
    if (c === undefined) {
      c = await ServiceController.open(record(revision.key), this.#deps);
      this.#controllers.set(name, c);
    } else {
      c.reconfigure(record(revision.key));
    }
    this.#notifyFor(name, spec);
    const ref = { key: revision.key, version: revision.version };
    await c.record([{ type: 'spec.applied', revision: ref, templateChanged: true, file: o.file }], o.actor);
    const first = c.state.stable === null;
    const waiting = await this.#startOrWait(c, revision, o.actor, first ? 'skip' : (o.windows ?? 'check'));
    if (waiting !== null) {
      return { service: name, action: 'waiting', revision: revision.key, version: revision.version, message: `release of ${revision.version} (revision ${revision.key}) waits: ${waiting}` };
    }
    return {
      service: name, action: first ? 'created' : 'released', revision: revision.key, version: revision.version,
      message: first ? `deploying ${revision.version} (revision ${revision.key})` : `release of ${revision.version} (revision ${revision.key}) started`,
    };
  }

  /**
   * Start the release, or record that it waits for its release window (a freeze, a deny window,
   * outside every allow window); a newer spec replaces a waiting one. Returns why it waits, or null.
   */
  async #startOrWait(c: ServiceController, rev: StoredRevision, actor: string, windows: 'check' | 'skip'): Promise<string | null> {
    const pending = c.state.waiting;
    if (pending) await c.record([{ type: 'release.waitEnded', revision: pending.revision, outcome: 'superseded', detail: `revision ${rev.key} (${rev.version}) was applied` }], actor);
    if (windows === 'check') {
      const w = await releaseWindow(this.#deps.dataDir, c.service, this.#deps.now());
      if (!w.open) {
        await c.record([{ type: 'release.waiting', revision: { key: rev.key, version: rev.version }, reason: w.reason, until: w.until }], actor);
        return `${w.reason}${w.until === null ? '' : `; until ${new Date(w.until).toISOString()}`}`;
      }
    }
    await this.#start(c, 'canary', rev, actor);
    return null;
  }

  /** Releases waiting for their window start once it opens, as the person who asked. */
  async #startWaiting(): Promise<void> {
    if (this.#checkingWindows) return;
    this.#checkingWindows = true;
    try {
      for (const c of this.#controllers.values()) {
        const pending = c.state.waiting;
        if (!pending) continue;
        try {
          const w = await releaseWindow(this.#deps.dataDir, c.service, this.#deps.now());
          if (!w.open) continue;
          const rev = await this.#store.revision(c.service, pending.revision.key);
          if (rev === null) continue;
          await c.record([{ type: 'release.waitEnded', revision: pending.revision, outcome: 'started', detail: `the release window opened: ${w.reason}` }], CONTROLLER);
          await this.#start(c, 'canary', rev, pending.by);
        } catch (err) {
          this.#deps.log.warn({ service: c.service, err }, 'could not start a release waiting for its window');
        }
      }
    } finally {
      this.#checkingWindows = false;
    }
  }

  async #start(c: ServiceController, kind: 'canary' | 'undo', rev: StoredRevision, actor: string): Promise<void> {
    const spec = rev.spec as ServiceSpec;
    const d = await c.input(
      { type: 'startRelease', kind, to: { key: rev.key, version: rev.version }, steps: spec.spec.strategy.canary.steps, contract: spec.spec.rollbackContract },
      actor,
    );
    if (d.refused) throw new SluiceError('CONFLICT', d.refused.message);
  }

  #controller(name: string): ServiceController {
    const c = this.#controllers.get(name);
    if (c === undefined) throw notFound(name);
    return c;
  }

  async command(name: string, kind: CommandName, args: { full?: boolean; toRevision?: string; reason?: string }, actor: string): Promise<ServiceStatus> {
    const c = this.#controller(name);
    const pending = c.state.waiting;
    if (pending && (kind === 'abort' || kind === 'undo') && !isActive(c.state.release)) {
      await c.record([{ type: 'release.waitEnded', revision: pending.revision, outcome: 'cancelled', detail: args.reason ?? `cancelled by ${actor}` }], actor);
      return this.status(name);
    }
    if (kind === 'undo') {
      await this.#undo(c, args.toRevision, actor);
    } else {
      const command: Command =
        kind === 'promote' ? { kind, full: args.full === true, ...(args.reason !== undefined && { reason: args.reason }) }
        : kind === 'abort' ? (args.reason !== undefined ? { kind, reason: args.reason } : { kind })
        : { kind };
      const d = await c.input({ type: 'command', command }, actor);
      if (d.refused) throw new SluiceError(d.refused.code === 'conflict' ? 'CONFLICT' : 'NOT_FOUND', d.refused.message);
    }
    return this.status(name);
  }

  /** Record an external signal; the release in progress (if any) counts it for its signal rules. */
  async signal(name: string, body: { signal: string; detail?: string; source?: string }, actor: string): Promise<{ signal: string; counted: boolean; release: string | null }> {
    const c = this.#controller(name);
    await c.input({ type: 'signal', signal: body.signal, detail: body.detail ?? null, source: body.source ?? null }, actor);
    const r = c.state.release;
    return { signal: body.signal, counted: isActive(r), release: isActive(r) ? r.id : null };
  }

  /** Undo a release in progress (abort), or release an earlier revision again (the previous stable one by default). */
  async #undo(c: ServiceController, toRevision: string | undefined, actor: string): Promise<void> {
    if (isActive(c.state.release) && toRevision === undefined) {
      await c.input({ type: 'command', command: { kind: 'abort', reason: `undone by ${actor}` } }, actor);
      return;
    }
    let key = toRevision;
    if (key === undefined) {
      const stableKey = c.state.stable?.key;
      const last = (await this.#store.releases(c.service)).find((r) => r.status === 'Succeeded' && r.to.key === stableKey && r.from !== null);
      key = last?.from?.key;
      if (key === undefined) throw new SluiceError('CONFLICT', `${c.service} has no previous revision to go back to; name one with --to-revision N`);
    }
    const rev = await this.#store.revision(c.service, key);
    if (rev === null) {
      const known = (await this.#store.revisions(c.service)).map((r) => `${r.key} (${r.version})`).join(', ');
      throw new SluiceError('NOT_FOUND', `${c.service} has no revision ${key}; known revisions: ${known}`);
    }
    const existing = await this.#store.service(c.service);
    await this.#store.putService({ ...existing!, spec: rev.spec, revisionKey: rev.key, updatedAt: Date.now() });
    this.#notifyFor(c.service, rev.spec as ServiceSpec);
    await this.#start(c, 'undo', rev, actor);
  }

  list(): ServiceStatus[] {
    return [...this.#controllers.values()].map((c) => statusOf(c.state)).sort((a, b) => a.service.localeCompare(b.service));
  }

  async status(name: string): Promise<ServiceStatus> {
    const c = this.#controller(name);
    const status = statusOf(c.state);
    if (status.lastRollback === null) {
      const past = (await this.#store.releases(name, 50)).find((r) => r.rollback !== null);
      if (past) return statusOf(c.state, past);
    }
    return status;
  }

  async history(name: string): Promise<ReleaseView[]> {
    this.#controller(name);
    return historyOf(await this.#store.releases(name));
  }

  async revisions(name: string): Promise<StoredRevision[]> {
    this.#controller(name);
    return this.#store.revisions(name);
  }

  /** Stop the service's instances and data plane and forget it (its history stays in the log). */
  async delete(name: string, actor: string): Promise<void> {
    const c = this.#controller(name);
    this.#controllers.delete(name);
    await c.shutdown();
    await c.record([{ type: 'service.deleted' }], actor);
    this.#notifications.configure(name, []);
    await this.#store.deleteService(name);
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
    await Promise.allSettled([...this.#controllers.values()].map((c) => c.close()));
    this.#controllers.clear();
    await this.#notifications.close();
  }
}
