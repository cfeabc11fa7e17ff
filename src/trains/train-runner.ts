/**
 * Runs release trains: applies a ReleaseTrain, then on each tick asks the core (core/trains) what
 * the train does next from what its services show, records that in the train's log and performs
 * it through the engine — a release of a service at its train version, an abort, a rollback to
 * the revision it ran before the train. Trains resume from their log after a restart. A run that
 * asks for approvals (spec.approvals) waits for people's `approve` (or a `reject`); a train with
 * spec.window starts no service while the server's release window is closed for it.
 */
import type { Logger } from 'pino';
import { CONTROLLER } from '../core/events.ts';
import { needsOf } from '../core/graph/index.ts';
import { isActive } from '../core/release/state.ts';
import {
  abortTrain,
  isRunning,
  nextRuns,
  planTrain,
  reduceTrain,
  rejectTrain,
  stepTrain,
  trainApprovalRefusal,
  trainRejectionRefusal,
  trainMembers,
  type ServiceObservation,
  type TrainAction,
  type TrainEvent,
  type TrainSpec,
  type TrainState,
  type TrainWindow,
} from '../core/trains/index.ts';
import { windowState } from '../core/windows/window-state.ts';
import { graphServices } from '../engine/dependency-graph.ts';
import type { Engine } from '../engine/engine.ts';
import type { Principal } from '../engine/environments.ts';
import { readPolicy } from '../engine/release-policy.ts';
import { SluiceError } from '../errors.ts';
import type { ServiceSpec } from '../spec/index.ts';
import type { Store } from '../store/types.ts';
import { trainLog, type TrainLog } from './train-log.ts';

/** Services released through environments, as the governance layer (engine/environments.ts) holds them. */
export interface TrainEnvironments {
  /** The environments of a service with spec.environments, in order (null: it has none). */
  of(service: string): string[] | null;
  /** Release `version` of `service` into `environment` through its gates, as a person would; throws when refused. */
  release(service: string, environment: string, version: string, actor: string): Promise<void>;
}

export interface TrainRunnerDeps {
  engine: Engine;
  store: Store;
  log: Logger;
  environments?: TrainEnvironments;
  /** The server's data dir: its release policy (spec.window). Absent: no policy, windows always open. */
  dataDir?: string;
  /** Whether role `has` covers role `needs` (the auth layer's ladder), for spec.approvals. */
  roleAllows?: (has: string, needs: string) => boolean;
  now?: () => number;
  tickMs?: number;
}

/** Where a train's document was written, for errors that name the file and line. */
export type TrainPositions = Record<string, { file: string; line: number; column: number }>;

export class TrainRunner {
  readonly #d: TrainRunnerDeps;
  readonly #now: () => number;
  readonly #log: TrainLog;
  readonly #trains = new Map<string, TrainState>();
  readonly #timer: NodeJS.Timeout;
  #ticking = false;
  /** Approvals and rejections one at a time: each is checked against the state the one before left. */
  #people: Promise<unknown> = Promise.resolve();

  private constructor(d: TrainRunnerDeps) {
    this.#d = d;
    this.#now = d.now ?? Date.now;
    this.#log = trainLog(d.store, d.engine.bus, this.#now);
    this.#timer = setInterval(() => void this.#tick(), d.tickMs ?? 100);
  }

  /** Opens every train in the log; those still running carry on. */
  static async open(d: TrainRunnerDeps): Promise<TrainRunner> {
    const runner = new TrainRunner(d);
    for (const name of await runner.#log.names()) {
      const t = await runner.#log.state(name);
      if (t !== null) runner.#trains.set(name, t);
    }
    return runner;
  }

  /** Start the train (or a new run of it). Refused, naming file and line, for a service that does not exist. */
  async apply(
    spec: TrainSpec,
    at: TrainPositions,
    file: string,
    actor: string,
  ): Promise<{ action: 'started' | 'waiting' | 'scheduled' | 'unchanged'; message: string }> {
    const current = this.#trains.get(spec.name);
    if (isRunning(current ?? null)) {
      if (JSON.stringify(current!.spec) === JSON.stringify(spec))
        return { action: 'unchanged', message: `train ${spec.name} run ${current!.run}: ${current!.status}` };
      throw new SluiceError(
        'CONFLICT',
        `${file}: train ${spec.name} run ${current!.run} is ${current!.status}; abort it first (sluice train abort ${spec.name}) to apply a changed train`,
      );
    }
    const facts = await this.#d.engine.serviceFacts();
    const problems: string[] = spec.services.flatMap((s, i) => {
      const where = at[`spec.services.${i}`];
      const prefix = where === undefined ? file : `${where.file}:${where.line}:${where.column}`;
      const envs = this.#d.environments?.of(s.name) ?? null;
      if (spec.environment !== undefined) {
        if (envs?.includes(spec.environment)) return [];
        return [
          envs === null
            ? `${prefix}: spec.services[${i}]: ${s.name} has no spec.environments; spec.environment (${spec.environment}) moves services released through environments`
            : `${prefix}: spec.services[${i}]: ${s.name} has no environment ${JSON.stringify(spec.environment)}; its environments: ${envs.join(', ')}`,
        ];
      }
      if (facts.some((f) => f.name === s.name)) return [];
      const environments = facts.filter((f) => f.name.startsWith(`${s.name}--`)).map((f) => f.name);
      return [
        environments.length > 0
          ? `${prefix}: spec.services[${i}]: ${s.name} is released through its environments (${environments.join(', ')}); name the one the train moves it into with spec.environment`
          : `${prefix}: spec.services[${i}]: unknown service ${JSON.stringify(s.name)}; apply its Service spec first; known services: ${
              facts
                .map((f) => f.name)
                .sort()
                .join(', ') || '(none)'
            }`,
      ];
    });
    if (spec.window !== undefined) {
      const where = at['spec.window.policy'];
      const prefix = where === undefined ? file : `${where.file}:${where.line}:${where.column}`;
      const policy = this.#d.dataDir === undefined ? null : await readPolicy(this.#d.dataDir);
      if (policy === null)
        problems.push(
          `${prefix}: spec.window.policy: "${spec.window.policy}": no release policy is installed on this server; apply a kind: ReleasePolicy first (sluice apply -f policy.yaml), or remove spec.window`,
        );
      else if (policy.name !== spec.window.policy)
        problems.push(
          `${prefix}: spec.window.policy: "${spec.window.policy}" is not the server's release policy; valid: "${policy.name}" (the metadata.name of the ReleasePolicy applied)`,
        );
    }
    if (problems.length > 0) throw new SluiceError('SPEC_INVALID', problems.join('\n'));
    if (spec.schedule !== undefined) {
      const next = await this.#schedule(spec, actor);
      return {
        action: 'scheduled',
        message:
          next === null
            ? `train ${spec.name}: its schedule has no run in the next 400 days`
            : `train ${spec.name} scheduled: next run at ${new Date(next).toISOString()}`,
      };
    }
    await this.#start(spec, actor);
    const t = this.#train(spec.name);
    if (t.status === 'WaitingForApproval') return { action: 'waiting', message: `train ${spec.name}: ${t.detail}` };
    return {
      action: 'started',
      message: `train ${spec.name} started: ${spec.services.map((s) => `${s.name} ${s.version}`).join(', ')}`,
    };
  }

  /** `requestedBy`: who asked for the run (for a scheduled run, who applied the schedule); never its approver. */
  async #start(spec: TrainSpec, actor: string, requestedBy = actor): Promise<void> {
    const needs = needsOf(graphServices(await this.#d.engine.serviceFacts()));
    const running = new Map(
      trainMembers(spec).map((s) => {
        const stable = this.#d.engine.serviceState(s.name)?.stable ?? null;
        return [s.name, stable === null ? null : { version: stable.version, revision: stable.key }] as const;
      }),
    );
    const run = (this.#trains.get(spec.name)?.run ?? 0) + 1;
    await this.#record(
      spec.name,
      [{ type: 'train.started', spec, run, services: planTrain(spec, needs, running), requestedBy }],
      actor,
    );
  }

  /** Record the next run of a scheduled train (null: none within 400 days; nothing recorded). */
  async #schedule(spec: TrainSpec, actor: string): Promise<number | null> {
    const next = nextRuns(spec.schedule!, this.#now())[0] ?? null;
    const requestedBy = actor === CONTROLLER ? (this.#trains.get(spec.name)?.requestedBy ?? actor) : actor;
    if (next !== null)
      await this.#record(spec.name, [{ type: 'train.scheduled', spec, nextRunAt: next, requestedBy }], actor);
    return next;
  }

  /** The next runs of a scheduled train (for the dashboard's upcoming trains). */
  upcoming(name: string, count = 5): number[] {
    const t = this.#train(name);
    return t.spec.schedule === undefined || t.status === 'Aborted' ? [] : nextRuns(t.spec.schedule, this.#now(), count);
  }

  /** A person stops the train: releasing services are aborted (back to stable), the rest held; nothing done is rolled back. A scheduled train's schedule is cancelled. */
  async abort(name: string, actor: string): Promise<TrainState> {
    const t = this.#train(name);
    if (!isRunning(t) && t.status !== 'Scheduled')
      throw new SluiceError('CONFLICT', `train ${name} is not running (${t.status}); nothing to abort`);
    const d = abortTrain(t, `aborted by ${actor}`);
    await this.#record(name, d.events, actor);
    await this.#perform(name, d.actions, actor);
    return this.#train(name);
  }

  /**
   * An approval of the run waiting for them (spec.approvals), by the rules of every approval:
   * role, four-eyes (not who asked for the run), once per person. The last one needed starts it.
   */
  async approve(name: string, comment: string | undefined, by: Principal): Promise<TrainState> {
    return this.#person(async () => {
      const t = this.#waitingForApproval(name);
      const need = t.spec.approvals!;
      const refusal = trainApprovalRefusal(t, by.name, this.#roleAllows(by.role, need.role));
      if (refusal !== null) throw new SluiceError('FORBIDDEN', refusal);
      await this.#record(
        name,
        [{ type: 'train.approved', by: by.name, role: by.role, comment: comment ?? null }],
        by.name,
      );
      return this.#train(name);
    });
  }

  /** A person refuses the run waiting for approvals: it ends, nothing started (a schedule keeps its next runs). */
  async reject(name: string, comment: string, by: Principal): Promise<TrainState> {
    return this.#person(async () => {
      const t = this.#waitingForApproval(name);
      const refusal = trainRejectionRefusal(t, this.#roleAllows(by.role, t.spec.approvals!.role));
      if (refusal !== null) throw new SluiceError('FORBIDDEN', refusal);
      await this.#record(name, rejectTrain(t, by.name, comment).events, by.name);
      if (t.spec.schedule !== undefined) await this.#schedule(t.spec, CONTROLLER);
      return this.#train(name);
    });
  }

  #roleAllows(has: string, needs: string): boolean {
    return this.#d.roleAllows?.(has, needs) ?? false;
  }

  #waitingForApproval(name: string): TrainState {
    const t = this.#train(name);
    if (t.status === 'WaitingForApproval') return t;
    throw new SluiceError(
      'CONFLICT',
      t.spec.approvals === undefined
        ? `train ${name} asks for no approval (it has no spec.approvals); nothing to approve or reject`
        : `train ${name} run ${t.run} is ${t.status}, not waiting for approval; nothing to approve or reject`,
    );
  }

  #person<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#people.then(fn, fn);
    this.#people = next.catch(() => undefined);
    return next;
  }

  /** A new run of a train that stopped: services already on their train version count as done. */
  async retry(name: string, actor: string): Promise<TrainState> {
    const t = this.#train(name);
    if (isRunning(t))
      throw new SluiceError('CONFLICT', `train ${name} run ${t.run} is ${t.status}; retry a train that stopped`);
    await this.#start(t.spec, actor);
    return this.#train(name);
  }

  status(name: string): TrainState {
    return this.#train(name);
  }

  list(): TrainState[] {
    return [...this.#trains.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name));
  }

  timeline(name: string): ReturnType<TrainLog['events']> {
    this.#train(name);
    return this.#log.events(name);
  }

  #train(name: string): TrainState {
    const t = this.#trains.get(name);
    if (t === undefined)
      throw new SluiceError(
        'NOT_FOUND',
        `no train named "${name}"; trains: ${[...this.#trains.keys()].join(', ') || '(none)'}; apply a kind: ReleaseTrain document to start one`,
      );
    return t;
  }

  async #record(name: string, events: TrainEvent[], actor: string): Promise<void> {
    if (events.length === 0) return;
    await this.#log.record(name, events, actor);
    const at = this.#now();
    let t = this.#trains.get(name) ?? null;
    for (const e of events) t = reduceTrain(t, { ...e, at });
    if (t !== null) this.#trains.set(name, t);
  }

  /**
   * For a train with spec.window: each waiting service's release window now (a service moved into
   * an environment: its base name's and its own, the first closed). Read on each tick, as releases do.
   */
  async #windows(t: TrainState): Promise<Map<string, TrainWindow>> {
    const windows = new Map<string, TrainWindow>();
    if (t.spec.window === undefined || t.status !== 'Running' || this.#d.dataDir === undefined) return windows;
    const waiting = t.services.filter((s) => s.status === 'waiting');
    if (waiting.length === 0) return windows;
    const policy = await readPolicy(this.#d.dataDir);
    if (policy === null) return windows;
    const now = this.#now();
    const env = t.spec.environment;
    for (const s of waiting) {
      const names = env === undefined ? [s.name] : [s.name.slice(0, -`--${env}`.length), s.name];
      const states = names.map((n) => windowState(policy.windows, policy.freezes, n, now));
      windows.set(s.name, states.find((w) => !w.open) ?? states[0]!);
    }
    return windows;
  }

  #observe(t: TrainState, windows: ReadonlyMap<string, TrainWindow>): Record<string, ServiceObservation> {
    const seen: Record<string, ServiceObservation> = {};
    for (const s of t.services) {
      const state = this.#d.engine.serviceState(s.name);
      if (state === null) continue;
      const r = state.release;
      const detail = r === null ? '' : (r.rollback?.reason ?? r.error ?? (isActive(r) ? '' : r.status));
      seen[s.name] = {
        stable: state.stable?.version ?? null,
        release:
          r === null
            ? null
            : {
                to: r.to.version,
                status: r.status,
                kind: r.kind,
                detail,
                reverting: r.rollback !== null && r.rollback.trafficRevertedAt === null,
              },
        waiting: state.waiting?.reason ?? null,
      };
      const w = windows.get(s.name);
      if (w !== undefined) seen[s.name]!.window = { open: w.open, reason: w.reason, until: w.until };
    }
    return seen;
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      for (const t of this.#trains.values()) {
        if (t.status === 'Scheduled' && t.nextRunAt !== null && t.nextRunAt <= this.#now()) {
          // Each run of a scheduled train is asked for by who applied the schedule (its approvals, its own).
          await this.#start(t.spec, CONTROLLER, t.requestedBy || CONTROLLER);
          continue;
        }
        if (!isRunning(t)) continue;
        const d = stepTrain(t, this.#observe(t, await this.#windows(t)));
        await this.#record(t.spec.name, d.events, CONTROLLER);
        await this.#perform(t.spec.name, d.actions, CONTROLLER);
        // A recurring train that just ended waits for its next run (unless a person aborted it).
        const after = this.#trains.get(t.spec.name)!;
        if (!isRunning(after) && after.status !== 'Aborted' && after.spec.schedule !== undefined)
          await this.#schedule(after.spec, CONTROLLER);
      }
    } catch (err) {
      this.#d.log.warn({ err }, 'a train step failed; retried on the next tick');
    } finally {
      this.#ticking = false;
    }
  }

  /** All at once: a train's rollbacks of one level run in parallel. A refused action fails that service. */
  async #perform(name: string, actions: TrainAction[], actor: string): Promise<void> {
    const results = await Promise.allSettled(actions.map((a) => this.#act(name, a, actor)));
    const failed: TrainEvent[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const a = actions[i]!;
      this.#d.log.warn({ train: name, action: a, err: r.reason }, 'a train action failed');
      if (a.kind !== 'abort')
        failed.push({
          type: 'train.serviceFailed',
          member: a.service,
          detail: `${a.kind} ${a.service} ${a.version} refused: ${(r.reason as Error).message}`,
        });
    });
    await this.#record(name, failed, CONTROLLER);
  }

  async #act(train: string, a: TrainAction, actor: string): Promise<void> {
    const engine = this.#d.engine;
    if (a.kind === 'abort') {
      if (isActive(engine.serviceState(a.service)?.release))
        await engine.command(a.service, 'abort', { reason: a.reason }, actor);
      return;
    }
    if (a.kind === 'rollback') {
      await engine.rollBackTo(a.service, a.toRevision, actor);
      return;
    }
    const environment = this.#trains.get(train)?.spec.environment;
    if (environment !== undefined) {
      const service = a.service.slice(0, -`--${environment}`.length);
      await this.#d.environments!.release(service, environment, a.version, actor);
      return;
    }
    const stored = await this.#d.store.service(a.service);
    if (stored === null) throw new SluiceError('NOT_FOUND', `no service named "${a.service}"`);
    const base = stored.spec as ServiceSpec;
    const spec: ServiceSpec = { ...base, spec: { ...base.spec, version: a.version } };
    await engine.applyService(spec, { file: `train ${train}`, baseDir: stored.baseDir, actor });
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
