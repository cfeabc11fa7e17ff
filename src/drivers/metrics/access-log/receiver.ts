/**
 * The syslog receiver of one `listen` address (UDP): every datagram is one request line, folded
 * into per-upstream counters (the built-in proxy's ring of 250 ms slots, core/analysis/backend-metrics.ts).
 * Memory is bounded: a fixed number of upstreams, and a cap on lines per second beyond which
 * lines are dropped and counted. Garbage is counted, never thrown. One receiver per address in
 * this process, shared by the providers of one service (a reconfigured provider takes over the
 * same counters); another service on the same address is refused.
 */
import dgram from 'node:dgram';
import { BackendMetrics } from '../../../core/analysis/backend-metrics.ts';
import { splitListen } from '../../../core/units.ts';
import { parseLogLine } from './log-line.ts';

/** Upstreams counted at once; lines for more are dropped (counted as `dropped`). */
export const MAX_UPSTREAMS = 512;
/** Sources (router instances) remembered at once. */
const MAX_SOURCES = 256;

export interface ReceiverCounts {
  /** Lines read as requests or heartbeats. */
  lines: number;
  /** Datagrams that were not a line of a known format (garbage, truncated). */
  garbage: number;
  /** Lines not counted: over the per-second cap, or for an upstream past MAX_UPSTREAMS. */
  dropped: number;
  /** Request lines whose upstream no applied table named (yet). */
  unattributed: number;
}

export class AccessLogReceiver {
  readonly listen: string;
  readonly service: string;
  readonly startedAt: number;
  readonly counts: ReceiverCounts = { lines: 0, garbage: 0, dropped: 0, unattributed: 0 };
  /** Per upstream `ip:port`: its counters and the revision key it served when they started. */
  readonly upstreams = new Map<string, { key: string | null; metrics: BackendMetrics }>();
  /** Per source: when its last line came. */
  readonly lastLineAt = new Map<string, number>();
  /** Per source, per upstream: the request lines read, for the cross-check with HAProxy's counters. */
  readonly requestLines = new Map<string, Map<string, number>>();
  /** Set when binding failed: every collect reports it. */
  error: string | null = null;
  readonly ready: Promise<void>;
  readonly #socket: dgram.Socket;
  readonly #maxPerSecond: number;
  #second = 0;
  #inSecond = 0;
  readonly #onBad = new Set<(upstream: string) => void>();
  #keys: Record<string, string> = {};

  constructor(listen: string, service: string, maxLinesPerSecond: number, now = Date.now()) {
    this.listen = listen;
    this.service = service;
    this.startedAt = now;
    this.#maxPerSecond = maxLinesPerSecond;
    const { host, port } = splitListen(listen);
    this.#socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.#socket.on('message', (msg) => this.take(msg.toString('latin1'), Date.now()));
    this.ready = new Promise((resolve) => {
      this.#socket.once('error', (err: NodeJS.ErrnoException) => {
        this.error =
          err.code === 'EADDRINUSE'
            ? `cannot receive access logs on ${listen} (UDP): the port is already taken by another program; choose another metrics.listen`
            : `cannot receive access logs on ${listen} (UDP): ${err.message}`;
        resolve();
      });
      this.#socket.bind(port, host, () => resolve());
    });
  }

  /** One datagram. Public for tests (no socket needed). */
  take(datagram: string, now: number): void {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#inSecond = 0;
    }
    if (++this.#inSecond > this.#maxPerSecond) {
      this.counts.dropped++;
      return;
    }
    const line = parseLogLine(datagram);
    if (line === null) {
      this.counts.garbage++;
      return;
    }
    this.counts.lines++;
    if (this.lastLineAt.has(line.source) || this.lastLineAt.size < MAX_SOURCES) this.lastLineAt.set(line.source, now);
    if (line.upstream === null) return;
    const u = this.#upstream(line.upstream);
    if (u === null) return;
    if (this.lastLineAt.has(line.source)) {
      const bySource = this.requestLines.get(line.source) ?? new Map<string, number>();
      this.requestLines.set(line.source, bySource);
      bySource.set(line.upstream, (bySource.get(line.upstream) ?? 0) + 1);
    }
    if (u.key === null) this.counts.unattributed++;
    u.metrics.record(now, line.latencyMs, line.answer);
    if (line.answer === 'connect' || line.answer >= 400) for (const wake of this.#onBad) wake(line.upstream);
  }

  /** The counters of an upstream, made on its first line; null (and counted as dropped) past MAX_UPSTREAMS. */
  #upstream(upstream: string): { key: string | null; metrics: BackendMetrics } | null {
    let u = this.upstreams.get(upstream);
    if (u === undefined) {
      if (this.upstreams.size >= MAX_UPSTREAMS) {
        this.counts.dropped++;
        return null;
      }
      u = { key: this.#keys[upstream] ?? null, metrics: new BackendMetrics() };
      this.upstreams.set(upstream, u);
    }
    return u;
  }

  /**
   * Attempts an upstream refused (or left unanswered) that HAProxy then retried, as its own
   * counters report them: no line names them (the line names the server that answered), so they
   * are counted here, each as a request with no answer (an error, as behind the built-in proxy).
   */
  failedAttempts(upstream: string, count: number, now: number): void {
    const u = this.#upstream(upstream);
    if (u === null || count <= 0) return;
    for (let i = 0; i < count; i++) u.metrics.record(now, 0, 'connect');
    for (const wake of this.#onBad) wake(upstream);
  }

  /**
   * The revisions the upstreams serve now (from the router's last table). An upstream that moves
   * to another revision starts its counters again, so one revision's requests never count for another.
   */
  assign(keys: Record<string, string>): void {
    this.#keys = { ...this.#keys, ...keys };
    for (const [upstream, u] of this.upstreams) {
      const key = this.#keys[upstream] ?? null;
      if (u.key === key) continue;
      if (u.key === null) u.key = key;
      else this.upstreams.set(upstream, { key, metrics: new BackendMetrics() });
    }
  }

  keyOf(upstream: string): string | null {
    return this.#keys[upstream] ?? null;
  }

  /** Calls `listener` with the upstream of every bad answer (status ≥ 400, or none) until the returned function is called. */
  onBad(listener: (upstream: string) => void): () => void {
    this.#onBad.add(listener);
    return () => void this.#onBad.delete(listener);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }
}

const open = new Map<string, { receiver: AccessLogReceiver; users: number; closing?: NodeJS.Timeout }>();
/** A released receiver stays open this long, so a provider re-created on apply takes over its counters. */
const LINGER_MS = 2000;

/** The receiver for `listen`, shared by one service's providers; throws when another service uses it. */
export function acquireReceiver(listen: string, service: string, maxLinesPerSecond: number): AccessLogReceiver {
  const held = open.get(listen);
  if (held !== undefined) {
    if (held.receiver.service !== service) {
      throw new Error(
        `metrics.listen ${listen} already receives the access log of service "${held.receiver.service}"; give each service its own port`,
      );
    }
    clearTimeout(held.closing);
    delete held.closing;
    held.users++;
    return held.receiver;
  }
  const receiver = new AccessLogReceiver(listen, service, maxLinesPerSecond);
  open.set(listen, { receiver, users: 1 });
  return receiver;
}

export function releaseReceiver(receiver: AccessLogReceiver): void {
  const held = open.get(receiver.listen);
  if (held === undefined || held.receiver !== receiver) return;
  if (--held.users > 0) return;
  held.closing = setTimeout(() => {
    open.delete(receiver.listen);
    void receiver.close();
  }, LINGER_MS);
  held.closing.unref();
}
