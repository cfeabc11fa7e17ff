/**
 * The webhook notifier: `notify` filters, formats and queues (synchronously, in microseconds);
 * one background loop posts the queue in order, each post bounded by `timeout` and retried with
 * exponential backoff and jitter. A full queue drops its oldest entry; every failure is logged,
 * none is thrown, and nothing here is ever awaited by a release.
 */
import { resolveHeaders } from '../../secrets.ts';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriverContext } from '../../types.ts';
import type { NotificationEvent, Notifier } from '../types.ts';
import type { WebhookNotifierConfig } from './config.ts';
import { jsonPayload, slackPayload } from './payload.ts';
import { SIGNATURE_HEADER, signature } from './signature.ts';

interface Delivery {
  id: string;
  type: string;
  body: string;
}

/** How long close() lets queued deliveries go on before it abandons them. */
const CLOSE_GRACE_MS = 2000;
/** At most one "queue full" warning per this period; the count says how many were dropped. */
const DROP_WARNING_EVERY_MS = 10_000;

/** Retry: the network failed, the receiver timed out, or it said "later" (408, 429, 5xx). */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export class WebhookNotifier implements Notifier {
  readonly #config: WebhookNotifierConfig;
  readonly #ctx: DriverContext;
  readonly #secret: string | undefined;
  readonly #queue: Delivery[] = [];
  readonly #stopping = new AbortController();
  #worker: Promise<void> | null = null;
  #closed = false;
  #dropped = 0;
  #lastDropWarning = -Infinity;

  constructor(config: WebhookNotifierConfig, ctx: DriverContext, secret: string | undefined) {
    this.#config = config;
    this.#ctx = ctx;
    this.#secret = secret;
  }

  notify(event: NotificationEvent): void {
    try {
      if (this.#closed || !this.#config.events.includes(event.type)) return;
      const id = randomUUID();
      // Serialised now: the delivery carries the event as it was, whatever happens to the object.
      const payload = this.#config.format === 'slack' ? slackPayload(event) : jsonPayload(id, event);
      this.#queue.push({ id, type: event.type, body: JSON.stringify(payload) });
      if (this.#queue.length > this.#config.queueSize) this.#dropOldest();
      this.#worker ??= this.#drain().finally(() => (this.#worker = null));
    } catch (err) {
      this.#log('error', `could not queue ${event?.type} for delivery: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (worker) {
      const grace = sleep(CLOSE_GRACE_MS, undefined, { ref: false }).then(() => 'late' as const);
      if ((await Promise.race([worker.then(() => 'done' as const), grace])) === 'late') {
        const left = this.#queue.length + 1;
        this.#stopping.abort();
        this.#queue.length = 0;
        await worker;
        this.#log('warn', `closed with ${left} notification(s) undelivered after ${CLOSE_GRACE_MS} ms`, {
          undelivered: left,
        });
      }
    }
    if (this.#dropped > 0)
      this.#log('warn', `${this.#dropped} notification(s) were dropped in all because the queue was full`, {
        dropped: this.#dropped,
      });
  }

  #dropOldest(): void {
    const dropped = this.#queue.shift();
    this.#dropped++;
    const now = Date.now();
    if (now - this.#lastDropWarning >= DROP_WARNING_EVERY_MS) {
      this.#lastDropWarning = now;
      this.#log(
        'warn',
        `queue full (${this.#config.queueSize}): dropped the oldest notification (${dropped?.type}); ${this.#dropped} dropped so far`,
        { dropped: this.#dropped },
      );
    }
  }

  async #drain(): Promise<void> {
    for (
      let next = this.#queue.shift();
      next !== undefined && !this.#stopping.signal.aborted;
      next = this.#queue.shift()
    ) {
      await this.#deliver(next).catch((err: Error) =>
        this.#log('error', `delivery of ${next?.type} failed: ${err.message}`),
      );
    }
  }

  async #deliver(d: Delivery): Promise<void> {
    const { attempts } = this.#config.retry;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const outcome = await this.#post(d);
      if (outcome.ok) return;
      if (this.#stopping.signal.aborted) return;
      const detail = { delivery: d.id, event: d.type, attempt, of: attempts, error: outcome.error };
      if (!outcome.retry || attempt === attempts) {
        this.#log('error', `gave up delivering ${d.type} after ${attempt} attempt(s): ${outcome.error}`, detail);
        return;
      }
      const delay = this.#backoff(attempt, outcome.retryAfterMs);
      this.#log(
        'warn',
        `delivering ${d.type} failed (attempt ${attempt} of ${attempts}): ${outcome.error}; retrying in ${delay} ms`,
        detail,
      );
      await sleep(delay, undefined, { signal: this.#stopping.signal, ref: false }).catch(() => {});
    }
  }

  /** Exponential, capped, with "equal jitter": half the delay fixed, half random. */
  #backoff(attempt: number, retryAfterMs: number | null): number {
    const { initialDelay, maxDelay } = this.#config.retry;
    const base = Math.min(maxDelay, initialDelay * 2 ** (attempt - 1));
    const jittered = Math.round(base / 2 + Math.random() * (base / 2));
    return retryAfterMs === null ? jittered : Math.min(maxDelay, Math.max(jittered, retryAfterMs));
  }

  async #post(
    d: Delivery,
  ): Promise<{ ok: true } | { ok: false; retry: boolean; error: string; retryAfterMs: number | null }> {
    let given: Record<string, string>;
    try {
      given = resolveHeaders(this.#config.headers);
    } catch (err) {
      return { ok: false, retry: false, error: (err as Error).message, retryAfterMs: null };
    }
    const headers: Record<string, string> = {
      ...given,
      'content-type': 'application/json',
      'user-agent': 'sluice-webhook',
      'x-sluice-event': d.type,
      'x-sluice-delivery': d.id,
    };
    // Signed per attempt, so a retry carries a fresh timestamp within the receiver's tolerance.
    if (this.#secret !== undefined)
      headers[SIGNATURE_HEADER] = signature(this.#secret, d.body, Math.floor(Date.now() / 1000));
    const signal = AbortSignal.any([AbortSignal.timeout(this.#config.timeout), this.#stopping.signal]);
    try {
      const res = await fetch(this.#config.url, { method: 'POST', headers, body: d.body, signal });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      const after = Number(res.headers.get('retry-after'));
      return {
        ok: false,
        retry: retryable(res.status),
        error: `HTTP ${res.status}`,
        retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : null,
      };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const error =
        e.name === 'TimeoutError' ? `no answer within ${this.#config.timeout} ms` : (e.cause?.code ?? e.message);
      return { ok: false, retry: true, error, retryAfterMs: null };
    }
  }

  #log(level: 'info' | 'warn' | 'error', message: string, detail: Record<string, unknown> = {}): void {
    // The URL's path often is the credential (Slack hooks): only its origin goes to the log.
    this.#ctx.log(level, `webhook ${new URL(this.#config.url).origin}: ${message}`, { notifier: 'webhook', ...detail });
  }
}
