/** The `process` target: each revision runs as N local, detached OS processes on ports it picks. */
import type { Instance } from '../../../core/types.ts';
import type { DriverContext } from '../../types.ts';
import type { InstanceFault, Target, TargetRevision, TargetSignal } from '../types.ts';
import { waitUntilReady } from '../readiness.ts';
import type { ProcessTargetConfig } from './config.ts';
import { freePort, portFreesUp } from '../../free-port.ts';
import { readState, recordedInstances, removeState } from './instance-files.ts';
import { launchUntilReady, spawnFor, type InstancePlan } from './launch.ts';
import { groupOf, isAlive, signalGroup, stopGroup } from './process-group.ts';
import { resumeAfter } from './resume-waker.ts';
import type { SpawnedInstance } from './spawn-instance.ts';
import { Supervisor, type Watched } from './supervisor.ts';

type Revision = TargetRevision<ProcessTargetConfig>;

/** How long adopt waits for a dead instance's port before restarting it on another one. */
const PORT_WAIT_MS = 2_000;

export class ProcessTarget implements Target<ProcessTargetConfig> {
  readonly #ctx: DriverContext;
  readonly #supervisor: Supervisor;
  /** The cancels of stopped instances' wakers, by instance id. */
  readonly #wakers = new Map<string, () => void>();
  #listeners: Array<(signal: TargetSignal) => void> = [];

  constructor(ctx: DriverContext) {
    this.#ctx = ctx;
    this.#supervisor = new Supervisor((signal) => this.#emit(signal), ctx.log);
  }

  async start(rev: Revision, signal: AbortSignal): Promise<Instance[]> {
    if (this.#supervisor.hasRevision(rev.key)) {
      throw new Error(
        `process target: service "${this.#ctx.service}" revision ${rev.key} already has running instances; stop or adopt them instead of starting it again`,
      );
    }
    await this.#stopLeftovers(rev);
    // One failing instance (or the caller's abort) stops the others' waiting.
    const failed = new AbortController();
    const onAbort = () => failed.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    const runs: SpawnedInstance[] = [];
    let firstError: unknown;
    try {
      const ports = await distinctFreePorts(rev.config.instances);
      const launched = await Promise.allSettled(
        ports.map((port, i) =>
          launchUntilReady(this.#plan(rev, `${rev.key}-${i + 1}`, port), failed.signal, (run) => runs.push(run)).catch(
            (err: unknown) => {
              firstError ??= err;
              failed.abort(err);
              throw err;
            },
          ),
        ),
      );
      if (firstError === undefined) {
        const ready = launched.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
        for (const { instance, spawned } of ready) {
          this.#supervisor.watchChild(
            this.#watched(rev, instance.id, Number(instance.detail?.port), spawned.pid as number),
            spawned,
          );
        }
        return ready.map(({ instance }) => instance);
      }
    } catch (err) {
      // Only picking ports can throw here; launch failures are caught per instance above.
      firstError ??= new Error(
        `process target: service "${this.#ctx.service}" revision ${rev.key}: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    await Promise.all(runs.map((run) => run.pid !== undefined && stopGroup(run.pid, run.pid, rev.config.stopTimeout)));
    for (let n = 1; n <= rev.config.instances; n++) removeState(this.#ctx.serviceDir, rev.key, `${rev.key}-${n}`);
    throw firstError;
  }

  /**
   * A start cut short by a controller crash leaves processes nobody reported; a new start of the
   * same revision stops them first instead of leaving them orphaned.
   */
  async #stopLeftovers(rev: Revision): Promise<void> {
    await Promise.all(
      recordedInstances(this.#ctx.serviceDir, rev.key).map(async (id) => {
        const state = readState(this.#ctx.serviceDir, rev.key, id);
        if (state !== null && isAlive(state.pid) && groupOf(state.pid) === state.pgid) {
          this.#ctx.log('warn', `stopping instance ${id} left over from an interrupted start`, { pid: state.pid });
          await stopGroup(state.pid, state.pgid, rev.config.stopTimeout);
        }
        removeState(this.#ctx.serviceDir, rev.key, id);
      }),
    );
  }

  async adopt(rev: Revision, instances: Instance[]): Promise<Instance[]> {
    const live = await Promise.all(instances.map((instance) => this.#adoptOne(rev, instance)));
    return live.filter((instance): instance is Instance => instance !== null);
  }

  async stop(rev: Revision, instances: Instance[]): Promise<void> {
    await Promise.all(
      instances.map(async (instance) => {
        // Released first, so the exit that follows is not taken for a crash.
        const watched = this.#supervisor.release(instance.id);
        const pid = watched?.pid ?? this.#recorded(rev, instance).pid;
        if (pid !== null && this.#ours(pid)) {
          const outcome = await stopGroup(pid, pid, rev.config.stopTimeout);
          if (outcome === 'killed') {
            this.#ctx.log(
              'warn',
              `instance ${instance.id} was still running ${rev.config.stopTimeout}ms after SIGTERM; sent SIGKILL`,
              { pid },
            );
          }
        }
        removeState(this.#ctx.serviceDir, rev.key, instance.id);
      }),
    );
  }

  /**
   * kill: SIGKILL to the instance's process group; the supervisor sees a crash and restarts it as
   * it would any other (up to maxRestarts). stop / resume: SIGSTOP / SIGCONT to the group; a stop
   * with `ttlMs` is resumed then by a waker of its own (resume-waker.ts), controller or not. restart:
   * SIGTERM (SIGKILL after stopTimeout) and a new run on the same port, ready before it resolves.
   */
  async faultInstance(
    rev: Revision,
    instance: Instance,
    fault: InstanceFault,
    o: { ttlMs?: number } = {},
  ): Promise<void> {
    const watched = this.#supervisor.get(instance.id);
    const { pid, port } = watched ?? this.#recorded(rev, instance);
    if (pid === null || !isAlive(pid) || !this.#ours(pid))
      throw new Error(
        `process target: service "${this.#ctx.service}" revision ${rev.key}, instance ${instance.id} is not running (pid ${pid ?? 'unknown'}); nothing to ${fault}`,
      );
    this.#wakers.get(instance.id)?.();
    this.#wakers.delete(instance.id);
    if (fault === 'stop' && o.ttlMs !== undefined) this.#wakers.set(instance.id, resumeAfter(pid, o.ttlMs));
    if (fault !== 'restart') {
      signalGroup(pid, pid, fault === 'kill' ? 'SIGKILL' : fault === 'stop' ? 'SIGSTOP' : 'SIGCONT');
      return;
    }
    if (port === null)
      throw new Error(`process target: instance ${instance.id} has no recorded port; cannot restart it`);
    const released = this.#supervisor.release(instance.id);
    signalGroup(pid, pid, 'SIGCONT');
    await stopGroup(pid, pid, rev.config.stopTimeout);
    const { spawned } = await launchUntilReady(
      this.#plan(rev, instance.id, port),
      new AbortController().signal,
      () => {},
    );
    const next = this.#watched(rev, instance.id, port, spawned.pid as number);
    if (released !== undefined) next.restarts = released.restarts;
    this.#supervisor.watchChild(next, spawned);
  }

  onSignal(listener: (signal: TargetSignal) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    this.#supervisor.close();
    this.#listeners = [];
  }

  async #adoptOne(rev: Revision, instance: Instance): Promise<Instance | null> {
    const watched = this.#supervisor.get(instance.id);
    if (watched && isAlive(watched.pid)) return withPid(instance, watched.pid);
    // A watched instance that is down (or waiting for its restart) is restarted here instead.
    this.#supervisor.release(instance.id);
    const { pid, port } = this.#recorded(rev, instance);
    if (port === null) {
      this.#ctx.log('warn', `instance ${instance.id} has no recorded port; cannot adopt it`, { instance });
      return null;
    }
    if (pid !== null && isAlive(pid) && this.#ours(pid)) {
      const answers = await waitUntilReady(instance.url, rev.config.readiness, new AbortController().signal).then(
        () => true,
        () => false,
      );
      if (answers) {
        this.#supervisor.watchAdopted(this.#watched(rev, instance.id, port, pid));
        return withPid(instance, pid);
      }
      this.#ctx.log('warn', `instance ${instance.id} (pid ${pid}) is alive but fails readiness; restarting it`, {
        pid,
        port,
      });
      await stopGroup(pid, pid, rev.config.stopTimeout);
    }
    return this.#restartForAdopt(rev, instance, port);
  }

  async #restartForAdopt(rev: Revision, instance: Instance, recordedPort: number): Promise<Instance | null> {
    let port = recordedPort;
    if (!(await portFreesUp(port, PORT_WAIT_MS))) {
      port = await freePort();
      this.#ctx.log('warn', `port ${recordedPort} of instance ${instance.id} is taken; restarting it on port ${port}`);
    }
    const runs: SpawnedInstance[] = [];
    try {
      const { instance: restarted, spawned } = await launchUntilReady(
        this.#plan(rev, instance.id, port),
        new AbortController().signal,
        (run) => runs.push(run),
      );
      this.#supervisor.watchChild(this.#watched(rev, instance.id, port, spawned.pid as number), spawned);
      return restarted;
    } catch (err) {
      this.#ctx.log('error', `could not restart instance ${instance.id} while adopting: ${(err as Error).message}`);
      await Promise.all(
        runs.map((run) => run.pid !== undefined && stopGroup(run.pid, run.pid, rev.config.stopTimeout)),
      );
      return null;
    }
  }

  /** pid and port of an instance: the state file knows about restarts the engine never saw. */
  #recorded(rev: Revision, instance: Instance): { pid: number | null; port: number | null } {
    const detailPort = numeric(instance.detail?.port) ?? numeric(URL.parse(instance.url)?.port);
    const state = readState(this.#ctx.serviceDir, rev.key, instance.id);
    if (state && (detailPort === null || state.port === detailPort)) return { pid: state.pid, port: state.port };
    return { pid: numeric(instance.detail?.pid), port: detailPort };
  }

  /** Our instances lead their own process group; anything else is a reused pid, not ours to signal. */
  #ours(pid: number): boolean {
    const group = groupOf(pid);
    return group === null || group === pid;
  }

  #plan(rev: Revision, instanceId: string, port: number): InstancePlan {
    return { ctx: this.#ctx, rev, instanceId, port };
  }

  #watched(rev: Revision, instanceId: string, port: number, pid: number): Watched {
    const plan = this.#plan(rev, instanceId, port);
    return {
      key: rev.key,
      instanceId,
      port,
      pid,
      maxRestarts: rev.config.maxRestarts,
      respawn: () => spawnFor(plan),
      restarts: [],
    };
  }

  #emit(signal: TargetSignal): void {
    for (const listener of this.#listeners) {
      try {
        listener(signal);
      } catch (err) {
        this.#ctx.log('error', `a target signal listener failed: ${(err as Error).message}`, {
          instance: signal.instanceId,
        });
      }
    }
  }
}

function numeric(value: unknown): number | null {
  const n = typeof value === 'string' && value !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
}

function withPid(instance: Instance, pid: number): Instance {
  if (instance.detail?.pid === pid) return instance;
  return { ...instance, detail: { ...instance.detail, pid, pgid: pid } };
}

/** Distinct ports: two quick binds to port 0 may hand out the same port twice. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
