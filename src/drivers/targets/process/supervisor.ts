/**
 * Keeps running instances running: when one exits unexpectedly it is restarted on the same port
 * (so the router's endpoints stay valid) after a short backoff, and a `crashed` signal is emitted.
 * Children are watched through their exit event; adopted instances (not our children) by polling.
 */
import type { DriverContext } from '../../types.ts';
import type { TargetSignal } from '../types.ts';
import { isAlive } from './process-group.ts';
import type { ExitStatus, SpawnedInstance } from './spawn-instance.ts';

const RESTART_WINDOW_MS = 60_000;
const ADOPTED_POLL_MS = 500;
const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 5_000;

export interface Watched {
  key: string;
  instanceId: string;
  port: number;
  /** The current run's pid; it changes on every restart. */
  pid: number;
  maxRestarts: number;
  /** Starts a new run of this instance on `port`. */
  respawn: () => SpawnedInstance;
  /** Times of restarts, pruned to the last RESTART_WINDOW_MS. */
  restarts: number[];
  timer?: NodeJS.Timeout;
}

export class Supervisor {
  readonly #watched = new Map<string, Watched>();
  readonly #emit: (signal: TargetSignal) => void;
  readonly #log: DriverContext['log'];
  #closed = false;

  constructor(emit: (signal: TargetSignal) => void, log: DriverContext['log']) {
    this.#emit = emit;
    this.#log = log;
  }

  get(instanceId: string): Watched | undefined {
    return this.#watched.get(instanceId);
  }

  hasRevision(key: string): boolean {
    for (const watched of this.#watched.values()) if (watched.key === key) return true;
    return false;
  }

  /** Watch a run we spawned; its exit event tells us when it goes down. */
  watchChild(watched: Watched, run: SpawnedInstance): void {
    if (this.#closed) return;
    if (run.pid !== undefined) watched.pid = run.pid;
    this.#watched.set(watched.instanceId, watched);
    void run.exited.then((status) => {
      if (this.#watched.get(watched.instanceId) === watched && watched.pid === (run.pid ?? watched.pid)) {
        this.#down(watched, status);
      }
    });
  }

  /** Watch a process that is not our child: poll whether it is still alive. */
  watchAdopted(watched: Watched): void {
    if (this.#closed) return;
    this.#watched.set(watched.instanceId, watched);
    watched.timer = setInterval(() => {
      if (isAlive(watched.pid)) return;
      clearInterval(watched.timer);
      watched.timer = undefined;
      this.#down(watched, { code: null, signal: null, error: null });
    }, ADOPTED_POLL_MS);
  }

  /** Stop watching one instance (before stopping it, so the stop is not seen as a crash). */
  release(instanceId: string): Watched | undefined {
    const watched = this.#watched.get(instanceId);
    if (!watched) return undefined;
    clearTimeout(watched.timer);
    this.#watched.delete(instanceId);
    return watched;
  }

  /** Stop watching everything; the processes keep running. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#watched.keys()]) this.release(id);
  }

  #down(watched: Watched, status: ExitStatus): void {
    const now = Date.now();
    watched.restarts = watched.restarts.filter((at) => now - at < RESTART_WINDOW_MS);
    const restarted = watched.restarts.length < watched.maxRestarts;
    const how = status.error
      ? `could not be restarted (${status.error.message})`
      : status.signal
        ? `was killed by ${status.signal}`
        : status.code === null
          ? 'is no longer running'
          : `exited with code ${status.code}`;
    const detail = { key: watched.key, instance: watched.instanceId, pid: watched.pid, port: watched.port };
    if (restarted) {
      const delay = Math.min(BACKOFF_FIRST_MS * 2 ** watched.restarts.length, BACKOFF_MAX_MS);
      watched.restarts.push(now);
      this.#log(
        'warn',
        `instance ${watched.instanceId} ${how}; restarting it on port ${watched.port} in ${delay}ms`,
        detail,
      );
      watched.timer = setTimeout(() => this.#restart(watched), delay);
    } else {
      this.#log(
        'error',
        `instance ${watched.instanceId} ${how}; it restarted ${watched.maxRestarts} times within 60s, so it stays down`,
        detail,
      );
      this.#watched.delete(watched.instanceId);
    }
    this.#emit({
      kind: 'crashed',
      key: watched.key,
      instanceId: watched.instanceId,
      exitCode: status.code,
      signal: status.signal,
      restarted,
      at: now,
    });
  }

  #restart(watched: Watched): void {
    watched.timer = undefined;
    if (this.#watched.get(watched.instanceId) !== watched) return;
    let run: SpawnedInstance;
    try {
      run = watched.respawn();
    } catch (err) {
      this.#down(watched, { code: null, signal: null, error: err as NodeJS.ErrnoException });
      return;
    }
    this.watchChild(watched, run);
  }
}
