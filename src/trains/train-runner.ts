/**
 * Runs release trains: applies a ReleaseTrain, then on each tick asks the core (core/trains) what
 * the train does next from what its services show, records that in the train's log and performs
 * it through the engine — a release of a service at its train version, an abort, a rollback to
 * the revision it ran before the train. Trains resume from their log after a restart. A run that
 * asks for approvals (spec.approvals) waits for people's `approve` (or a `reject`); a train with
 * spec.window starts no service while the server's release window is closed for it.
 *
 * Replicated, each train is run by one replica, under a lease of its own on its log's name
 * (`_train:<name>`, taken and moved as services' leases are); its events are committed under that
 * lease's fence, so a replica that lost the train can record nothing more. The one that takes it
 * over reads it from the log and first does what the log says was done and its services do not
 * show (core/trains/pending.ts). Every replica keeps every train's state (read from the log again
 * when another replica's train events arrive) and sends a person's request on to the train's
 * runner; its members' states and actions go by their own owners (train-members.ts).
 */
import type { Logger } from 'pino';
import { CONTROLLER } from '../core/events.ts';
import { needsOf } from '../core/graph/index.ts';
import {
  abortTrain,
  isRunning,
  nextRuns,
  pendingActions,
  planTrain,
  reduceTrain,
  rejectTrain,
  stepTrain,
  trainApprovalRefusal,
  trainRejectionRefusal,
  trainMembers,
  type TrainAction,
  type TrainEvent,
  type TrainForwarded,
  type TrainPositions,
  type TrainSpec,
  type TrainState,
} from '../core/trains/index.ts';
import { graphServices } from '../engine/dependency-graph.ts';
import type { Engine } from '../engine/engine.ts';
import type { Principal } from '../engine/environments.ts';
import type { ForwardedArgs } from '../engine/replica-tail.ts';
import { SluiceError } from '../errors.ts';
import type { Store } from '../store/types.ts';
import { TRAIN_LOG_PREFIX, trainLog, trainLogName, type TrainLog } from './train-log.ts';
import { TRAIN_COMMAND, TrainMembers, type TrainEnvironments } from './train-members.ts';
import { trainApplyProblems } from './train-apply-checks.ts';
import { trainWindows } from './train-windows.ts';
import { TrainViews } from './train-views.ts';

export type { TrainEnvironments } from './train-members.ts';
export type { TrainPositions } from '../core/trains/index.ts';
type ApplyAnswer = { action: 'started' | 'waiting' | 'scheduled' | 'unchanged'; message: string };

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

export class TrainRunner {
  readonly #d: TrainRunnerDeps;
  readonly #now: () => number;
  readonly #log: TrainLog;
  readonly #views: TrainViews;
  /** Every train, as the log holds it (train-views.ts). */
  readonly #trains: Map<string, TrainState>;
  readonly #timer: NodeJS.Timeout;
  readonly #members: TrainMembers;
  #ticking = false;
  /** Approvals and rejections one at a time: each is checked against the state the one before left. */
  #people: Promise<unknown> = Promise.resolve();
  /**
   * Per train, the lease epoch this runner last acted under (alone: 0). Another one means it was
   * taken (over) here: read from the log again, and what it left undone done first (`#resume`).
   */
  readonly #epochs = new Map<string, number>();
  readonly #resume = new Set<string>();

  private constructor(d: TrainRunnerDeps) {
    this.#d = d;
    this.#now = d.now ?? Date.now;
    this.#log = trainLog(d.store, d.engine.bus, this.#now);
    this.#members = new TrainMembers(d.engine, d.store, d.environments);
    this.#views = new TrainViews(this.#log, d.engine, d.log);
    this.#trains = this.#views.trains;
    d.engine.leaseLogs(TRAIN_LOG_PREFIX, () => this.#wanted());
    d.engine.onForwarded(TRAIN_COMMAND, (target, args, actor) => this.#carryOut(target, args, actor));
    this.#timer = setInterval(() => void this.#tick(), d.tickMs ?? 100);
  }

  /** Opens every train in the log; those still running carry on. */
  static async open(d: TrainRunnerDeps): Promise<TrainRunner> {
    const runner = new TrainRunner(d);
    await runner.#views.load();
    return runner;
  }

  /** Start the train (or a new run of it). Refused, naming file and line, for a service that does not exist. */
  async apply(spec: TrainSpec, at: TrainPositions, file: string, actor: string): Promise<ApplyAnswer> {
    if (await this.#owned(spec.name)) return this.#applyHere(spec, at, file, actor);
    const before = this.#trains.get(spec.name) ?? null;
    await this.#forward(spec.name, { kind: 'apply', spec, at, file }, actor);
    const t = this.#train(spec.name);
    if (t.status === 'Scheduled')
      return {
        action: 'scheduled',
        message: `train ${spec.name} scheduled: next run at ${new Date(t.nextRunAt ?? 0).toISOString()}`,
      };
    if (t.status === 'WaitingForApproval') return { action: 'waiting', message: `train ${spec.name}: ${t.detail}` };
    if (before !== null && before.run === t.run && isRunning(before))
      return { action: 'unchanged', message: `train ${spec.name} run ${t.run}: ${t.status}` };
    return {
      action: 'started',
      message: `train ${spec.name} started: ${spec.services.map((s) => `${s.name} ${s.version}`).join(', ')}`,
    };
  }

  async #applyHere(spec: TrainSpec, at: TrainPositions, file: string, actor: string): Promise<ApplyAnswer> {
    const current = this.#trains.get(spec.name);
    if (isRunning(current ?? null)) {
      if (JSON.stringify(current!.spec) === JSON.stringify(spec))
        return { action: 'unchanged', message: `train ${spec.name} run ${current!.run}: ${current!.status}` };
      throw new SluiceError(
        'CONFLICT',
        `${file}: train ${spec.name} run ${current!.run} is ${current!.status}; abort it first (sluice train abort ${spec.name}) to apply a changed train`,
      );
    }
    const problems = await trainApplyProblems(spec, at, file, {
      facts: await this.#d.engine.serviceFacts(),
      ...(this.#d.environments !== undefined && { environments: this.#d.environments }),
      ...(this.#d.dataDir !== undefined && { dataDir: this.#d.dataDir }),
    });
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
    const running = await this.#members.running(trainMembers(spec).map((s) => s.name));
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
    this.#train(name);
    if (!(await this.#owned(name))) return this.#forward(name, { kind: 'abort' }, actor);
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
    this.#train(name);
    if (!(await this.#owned(name)))
      return this.#forward(name, { kind: 'approve', role: by.role, comment: comment ?? null }, by.name);
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
    this.#train(name);
    if (!(await this.#owned(name))) return this.#forward(name, { kind: 'reject', role: by.role, comment }, by.name);
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
    this.#train(name);
    if (!(await this.#owned(name))) return this.#forward(name, { kind: 'retry' }, actor);
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

  /** Under the train's lease (replicated): refused once another replica took the train over. */
  async #record(name: string, events: TrainEvent[], actor: string): Promise<void> {
    if (events.length === 0) return;
    const acting = this.#d.engine.actingFence(trainLogName(name));
    if (acting === null)
      throw new SluiceError('CONFLICT', `train ${name} is no longer run by this replica; nothing was recorded`);
    await this.#log.record(name, events, actor, acting.fence);
    const at = this.#now();
    let t = this.#trains.get(name) ?? null;
    for (const e of events) t = reduceTrain(t, { ...e, at });
    if (t !== null) this.#trains.set(name, t);
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      for (const name of [...this.#trains.keys()]) {
        const acting = this.#d.engine.actingFence(trainLogName(name));
        if (acting === null) continue; // another replica runs it
        await this.#takeOn(name, acting.fence?.epoch ?? 0);
        const t = this.#trains.get(name)!;
        if (!isRunning(t) && t.status !== 'Scheduled') {
          // Ended: nothing left to run, the lease goes (a retry or a new apply takes it again).
          if (acting.fence !== undefined) await this.#d.engine.releaseLog(trainLogName(name));
          continue;
        }
        if (t.status === 'Scheduled' && t.nextRunAt !== null && t.nextRunAt <= this.#now()) {
          // Each run of a scheduled train is asked for by who applied the schedule (its approvals, its own).
          await this.#start(t.spec, CONTROLLER, t.requestedBy || CONTROLLER);
          continue;
        }
        if (!isRunning(t)) continue;
        const seen = await this.#members.observe(
          t.services.map((s) => s.name),
          await trainWindows(t, this.#d.dataDir, this.#now()),
        );
        if (this.#resume.delete(name)) {
          const pending = pendingActions(t, seen);
          if (pending.length > 0) {
            this.#d.log.info(
              { train: name, pending },
              'taking the train on: doing what its log says and its services do not show',
            );
            await this.#perform(name, pending, CONTROLLER);
            continue;
          }
        }
        const d = stepTrain(t, seen);
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

  /**
   * All at once: a train's rollbacks of one level run in parallel. A refused action fails that
   * service; one no owner answered (a member failing over) is asked for again on the next tick.
   * Replicated, nothing is done once the train's lease is no longer this replica's.
   */
  async #perform(name: string, actions: TrainAction[], actor: string): Promise<void> {
    if (actions.length === 0) return;
    if (this.#d.engine.actingFence(trainLogName(name)) === null) return; // the next runner does them (#resume)
    const environment = this.#trains.get(name)?.spec.environment;
    const results = await Promise.allSettled(actions.map((a) => this.#members.act(name, environment, a, actor)));
    const failed: TrainEvent[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const a = actions[i]!;
      if (r.reason instanceof SluiceError && r.reason.code === 'BUSY') {
        this.#d.log.warn(
          { train: name, action: a, err: r.reason.message },
          'a train action was not answered; asked again',
        );
        this.#resume.add(name);
        return;
      }
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

  /** Whether this replica runs the train now, taking its lease when no live replica holds it (alone: always). */
  async #owned(name: string): Promise<boolean> {
    const log = trainLogName(name);
    if (this.#d.engine.actingFence(log) === null && !(await this.#d.engine.claimLog(log))) return false;
    const acting = this.#d.engine.actingFence(log);
    if (acting === null) return false;
    await this.#takeOn(name, acting.fence?.epoch ?? 0);
    return true;
  }

  /** Under a new epoch the train is read from the log again (the last runner's events are all there: its later ones are refused). */
  async #takeOn(name: string, epoch: number): Promise<void> {
    if (this.#epochs.get(name) === epoch) return;
    const t = await this.#log.state(name);
    if (t !== null) this.#trains.set(name, t);
    this.#epochs.set(name, epoch);
    this.#resume.add(name);
    if (epoch > 0) this.#d.log.info({ train: name, epoch }, 'runs the train');
  }

  /** Trains that need a runner: running, waiting for approvals, or scheduled. */
  #wanted(): string[] {
    return [...this.#trains.values()]
      .filter((t) => isRunning(t) || t.status === 'Scheduled')
      .map((t) => trainLogName(t.spec.name));
  }

  /** A person's request for a train another replica runs: carried out there, then read back from the log. */
  async #forward(name: string, f: TrainForwarded, actor: string): Promise<TrainState> {
    await this.#d.engine.forward(trainLogName(name), TRAIN_COMMAND, { train: f }, actor);
    await this.#views.read(name);
    return this.#train(name);
  }

  /** A request another replica sent on: a person's for a train this one runs, or a train's action on a service it runs. */
  async #carryOut(target: string, args: ForwardedArgs, actor: string): Promise<void> {
    const f = args.train;
    if (f === undefined) throw new SluiceError('BAD_REQUEST', `${target}: a train command without its request`);
    if (f.kind === 'act') return this.#members.carryOut(f.train, f.environment, f.action, actor);
    const name = target.slice(TRAIN_LOG_PREFIX.length);
    if (!target.startsWith(TRAIN_LOG_PREFIX) || !(await this.#owned(name)))
      throw new SluiceError('BUSY', `train ${name} is no longer run by this replica; try again`);
    const by = { name: actor, role: 'role' in f ? f.role : '' };
    if (f.kind === 'apply') await this.#applyHere(f.spec, f.at, f.file, actor);
    else if (f.kind === 'approve') await this.approve(name, f.comment ?? undefined, by);
    else if (f.kind === 'reject') await this.reject(name, f.comment, by);
    else if (f.kind === 'abort') await this.abort(name, actor);
    else await this.retry(name, actor);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#views.close();
  }
}
