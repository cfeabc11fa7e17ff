/**
 * Readiness: the HTTP check a target waits on before it reports an instance. Shared by the
 * target drivers so "ready" means the same thing everywhere: GET <url><path> answers 2xx or 3xx.
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { duration } from '../../core/units.ts';

export const readinessConfig = z.strictObject({
  path: z.string().startsWith('/', 'write an absolute path such as /healthz').prefault('/healthz'),
  timeout: duration.prefault('30s'),
  interval: duration.prefault('200ms'),
});
/** Durations in milliseconds. */
export type Readiness = z.output<typeof readinessConfig>;

const PROBE_FLOOR_MS = 250;

/** Raised when the deadline passes; `lastProbe` says what the last attempt saw. */
export class ReadinessTimeout extends Error {
  readonly lastProbe: string;
  constructor(probeUrl: string, timeoutMs: number, lastProbe: string) {
    super(`GET ${probeUrl} did not answer 2xx/3xx within ${timeoutMs}ms (last attempt: ${lastProbe})`);
    this.name = 'ReadinessTimeout';
    this.lastProbe = lastProbe;
  }
}

/** `base` may carry a path prefix (http://host/app), so join by text rather than URL resolution. */
export function probeUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/**
 * One readiness attempt. Resolves `null` when ready, otherwise what was seen ("HTTP 503",
 * "ECONNREFUSED"). Uses a fresh connection (no keep-alive) so probes hold no sockets open.
 */
export function probe(url: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    let req: http.ClientRequest;
    try {
      req = client.request(url, { method: 'GET', agent: false, timeout: timeoutMs, headers: { connection: 'close' } });
    } catch (err) {
      resolve((err as Error).message);
      return;
    }
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400 ? null : `HTTP ${status}`);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/**
 * Polls `GET <base><path>` every `interval` until it answers 2xx/3xx. Rejects with
 * ReadinessTimeout after `timeout`, or with `signal.reason` when the signal aborts.
 */
export async function waitUntilReady(base: string, readiness: Readiness, signal: AbortSignal): Promise<void> {
  const url = probeUrl(base, readiness.path);
  const deadline = Date.now() + readiness.timeout;
  for (;;) {
    signal.throwIfAborted();
    // Bound one attempt so a hung server leaves room for later ones, but give even the last one
    // PROBE_FLOOR_MS: a 1 ms attempt at the deadline would hide what the server actually answers.
    const attemptMs = Math.min(deadline - Date.now(), Math.max(1000, readiness.interval));
    const seen = await probe(url, Math.max(PROBE_FLOOR_MS, attemptMs));
    if (seen === null) return;
    signal.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) throw new ReadinessTimeout(url, readiness.timeout, seen);
    // timers/promises rejects with a generic AbortError; surface the caller's reason instead.
    await sleep(Math.min(readiness.interval, left), undefined, { signal }).catch(() => signal.throwIfAborted());
  }
}
