/**
 * The builtin provider's `watch`: long polls the proxy's `GET /metrics/watch` and resolves once a
 * key has bad answers (status ≥ 400, or none) it has not reported yet. It remembers, per key, the
 * count it last reported and the proxy start it was counted on, so a restarted proxy (counters
 * from 0 again) is read from its beginning. Errors are retried after a growing pause, never in a
 * tight loop; an old proxy without the route is asked again only every minute. Never rejects but
 * when its signal aborts.
 */
import type { DriverContext } from '../../types.ts';
import { describe, proxyAdmin } from './proxy-admin.ts';

/** How long the proxy holds one poll (it allows up to 30 s). */
export const POLL_MS = 25_000;
/** A poll that has not answered this long after its timeout is given up. */
const POLL_GRACE_MS = 5_000;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
/** An old proxy without GET /metrics/watch: asked again this much later (it may be replaced). */
const UNSUPPORTED_BACKOFF_MS = 60_000;

interface WatchAnswer {
  bad: number;
  woke: boolean;
  startedAt: number;
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

class PollFailed extends Error {
  readonly retryMs: number | null;
  constructor(message: string, retryMs: number | null = null) {
    super(message);
    this.retryMs = retryMs;
  }
}

export class BadAnswerWatch {
  readonly #ctx: DriverContext;
  /** Per key: the bad answers last reported and the proxy start they were counted on. */
  readonly #reported = new Map<string, { startedAt: number; bad: number }>();
  readonly #pollMs: number;

  constructor(ctx: DriverContext, pollMs = POLL_MS) {
    this.#ctx = ctx;
    this.#pollMs = pollMs;
  }

  async watch(key: string, signal: AbortSignal): Promise<void> {
    let backoff = FIRST_BACKOFF_MS;
    let failing = false;
    for (;;) {
      signal.throwIfAborted();
      let answer: WatchAnswer;
      try {
        answer = await this.#poll(key, signal);
      } catch (err) {
        signal.throwIfAborted();
        const retryMs = err instanceof PollFailed && err.retryMs !== null ? err.retryMs : backoff;
        // Said once per failing stretch, not at every retry.
        if (!failing)
          this.#ctx.log('warn', `watching revision ${key} for bad answers failed; retrying`, {
            error: (err as Error).message,
            retryMs,
          });
        failing = true;
        await pause(retryMs, signal);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        continue;
      }
      backoff = FIRST_BACKOFF_MS;
      failing = false;
      const last = this.#reported.get(key);
      const reported = last !== undefined && last.startedAt === answer.startedAt ? last.bad : 0;
      this.#reported.set(key, { startedAt: answer.startedAt, bad: answer.bad });
      if (answer.bad > reported) return;
    }
  }

  async #poll(key: string, signal: AbortSignal): Promise<WatchAnswer> {
    const admin = await proxyAdmin(this.#ctx);
    const last = this.#reported.get(key);
    const query = new URLSearchParams({ key, seen: String(last?.bad ?? 0), timeout: String(this.#pollMs) });
    if (last !== undefined) query.set('startedAt', String(last.startedAt));
    const url = `${admin.url}/metrics/watch?${query}`;
    const limitMs = this.#pollMs + POLL_GRACE_MS;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: admin.headers,
        signal: AbortSignal.any([signal, AbortSignal.timeout(limitMs)]),
      });
    } catch (err) {
      throw new PollFailed(`the built-in proxy did not answer GET ${url}: ${describe(err, limitMs)}`);
    }
    const body = (await res.json().catch(() => null)) as Partial<WatchAnswer> | null;
    if (res.status === 404)
      throw new PollFailed(`the built-in proxy has no GET /metrics/watch (an older proxy)`, UNSUPPORTED_BACKOFF_MS);
    if (!res.ok || body === null || typeof body.bad !== 'number' || typeof body.startedAt !== 'number') {
      throw new PollFailed(`GET ${url} answered HTTP ${res.status} without a count`);
    }
    return { bad: body.bad, woke: body.woke === true, startedAt: body.startedAt };
  }
}
