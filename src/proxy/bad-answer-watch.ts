/**
 * Waiters for a backend's next bad answer (status ≥ 400, or none), behind the admin API's long
 * poll `GET /metrics/watch`: the controller learns of a failing canary when its first bad answers
 * arrive instead of at its next evaluation. Bounded: at most `max` wait at once, each until its
 * timeout at the latest, and one that stops waiting (its client left) leaves no timer or listener.
 */
/** A running count of bad answers with a one-shot wake-up: one backend's metrics, or the sum over workers. */
export interface BadCount {
  readonly totalBad: number;
  /** Calls `wake` once, at the next bad answer; returns a function that cancels that. */
  onNextBad(wake: () => void): () => void;
}

export const MAX_WATCHERS = 64;
export const MAX_WATCH_MS = 30_000;
export const DEFAULT_WATCH_MS = 25_000;

export class BadAnswerWatchers {
  readonly max: number;
  #waiting = 0;

  constructor(max = MAX_WATCHERS) {
    this.max = max;
  }

  /** How many wait now. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Resolves true once `metrics` has counted more than `seen` bad answers (at once if it has),
   * false after `timeoutMs` or when `signal` aborts; null when `max` already wait.
   */
  wait(metrics: BadCount, seen: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> | null {
    if (metrics.totalBad > seen) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    if (this.#waiting >= this.max) return null;
    this.#waiting++;
    return new Promise((resolve) => {
      let finished = false;
      let cancel = (): void => {};
      const finish = (woke: boolean): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        cancel();
        signal.removeEventListener('abort', onAbort);
        this.#waiting--;
        resolve(woke);
      };
      const arm = (): void => {
        cancel = metrics.onNextBad(() => (metrics.totalBad > seen ? finish(true) : arm()));
      };
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      arm();
    });
  }
}
