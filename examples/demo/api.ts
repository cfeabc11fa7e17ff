/**
 * The few calls of the Sluice HTTP API the demo makes. Every call is bounded in time and stops
 * when the demo is interrupted.
 */
import type { ServiceStatus } from '../../src/views/index.ts';

export type { RollbackView, ServiceStatus, VerdictView } from '../../src/views/index.ts';

const CALL_TIMEOUT_MS = 30_000;

export class SluiceApi {
  readonly url: string;
  readonly #signal: AbortSignal | undefined;
  readonly #token: string | undefined;

  constructor(url: string, signal?: AbortSignal, token?: string) {
    this.url = url;
    this.#signal = signal;
    this.#token = token;
  }

  /**
   * POST /api/apply; relative paths in the spec (the service command) resolve against baseDir.
   * Not cut short by an interrupt: the demo must know whether the service exists to delete it.
   */
  apply(
    spec: string,
    file: string,
    baseDir: string,
  ): Promise<{ results: { action: string; version: string; message: string }[] }> {
    return this.#call('POST', '/api/apply', { spec, file, baseDir }, false);
  }

  status(service: string): Promise<ServiceStatus> {
    return this.#call('GET', `/api/services/${encodeURIComponent(service)}`);
  }

  /** DELETE stops the service's instances and its proxy before it answers. */
  delete(service: string): Promise<unknown> {
    return this.#call('DELETE', `/api/services/${encodeURIComponent(service)}`);
  }

  /**
   * Polls until the release of `version` ends in `phase`. Another end (e.g. RolledBack while
   * waiting for Healthy) or the timeout is an error that quotes the status.
   */
  async waitFor(
    service: string,
    version: string,
    phase: ServiceStatus['phase'],
    timeoutMs: number,
  ): Promise<ServiceStatus> {
    const deadline = Date.now() + timeoutMs;
    let last: ServiceStatus | null = null;
    while (Date.now() < deadline) {
      last = await this.status(service);
      const ours = last.release?.toVersion === version;
      if (ours && last.phase === phase) return last;
      if (ours && last.phase !== 'Progressing' && last.phase !== 'Paused') {
        throw new Error(
          `${service} ${version} ended ${last.phase}, not ${phase}: ${last.release?.error ?? last.lastRollback?.reason ?? last.degraded ?? 'no reason given'}`,
        );
      }
      await sleep(200, this.#signal);
    }
    throw new Error(
      `${service} ${version} did not reach ${phase} within ${timeoutMs / 1000} s; it is ${last?.phase ?? 'unknown'} with weights ${JSON.stringify(last?.weights ?? {})}`,
    );
  }

  async #call<T>(method: string, path: string, body?: unknown, interruptible = true): Promise<T> {
    const timeout = AbortSignal.timeout(CALL_TIMEOUT_MS);
    const signal = this.#signal && interruptible ? AbortSignal.any([this.#signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        signal,
        headers: {
          ...(this.#token !== undefined && { authorization: `Bearer ${this.#token}` }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (err) {
      if (interruptible && this.#signal?.aborted) throw this.#signal.reason;
      if (timeout.aborted)
        throw new Error(`${method} ${path}: the sluice server did not answer within ${CALL_TIMEOUT_MS / 1000} s`);
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new Error(`${method} ${path}: cannot reach the sluice server at ${this.url} (${cause})`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {
        // not JSON: quote the body as it came
      }
      throw new Error(`${method} ${path} answered ${res.status}: ${message}`);
    }
    return JSON.parse(text) as T;
  }
}

/** setTimeout as a promise that rejects with the signal's reason when the demo is interrupted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
