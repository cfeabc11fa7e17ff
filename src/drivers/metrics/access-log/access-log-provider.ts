import { merge } from '../../../core/analysis/histogram.ts';
import type { HistogramCounts, StatusCounts } from '../../../core/types.ts';
import { type LogStreamFile, readLogStream } from '../../access-log.ts';
import type { DriverContext } from '../../types.ts';
import type { Measurement, MetricsProvider } from '../types.ts';
import type { AccessLogMetricsConfig } from './config.ts';
import { HaproxyCrossCheck } from './cross-check.ts';
import { type AccessLogReceiver, type ReceiverCounts, acquireReceiver, releaseReceiver } from './receiver.ts';

const HEARTBEAT_TIMEOUT_MS = 1000;
/** Counts of garbage, drops and unattributed lines are logged at most this often, when they grew. */
const REPORT_EVERY_MS = 10_000;
/** collect waits this long at most for HAProxy's counters (a slow runtime API never delays the figures more). */
const COUNTERS_WAIT_MS = 300;

interface Sum {
  requests: number;
  errors: number;
  latency: HistogramCounts;
  statuses: StatusCounts;
}

const emptySum = (): Sum => ({ requests: 0, errors: 0, latency: {}, statuses: {} });

function add(into: Sum, more: Sum): void {
  into.requests += more.requests;
  into.errors += more.errors;
  merge(into.latency, more.latency);
  for (const [s, n] of Object.entries(more.statuses)) into.statuses[s] = (into.statuses[s] ?? 0) + n;
}

export class AccessLogProvider implements MetricsProvider {
  readonly #config: AccessLogMetricsConfig;
  readonly #ctx: DriverContext;
  readonly #receiver: AccessLogReceiver | null;
  readonly #refused: string | null = null;
  readonly #startedAt = Date.now();
  /** Per source: how its last heartbeat went. */
  readonly #heartbeats = new Map<string, string>();
  #stream: LogStreamFile | null = null;
  #streamError: string | null = null;
  readonly #timer: NodeJS.Timeout;
  #reported: ReceiverCounts = { lines: 0, garbage: 0, dropped: 0, unattributed: 0 };
  #reportedAt = 0;
  readonly #closing = new AbortController();
  /** HAProxy's per-server counters against the lines (instances with a runtime API socket). */
  readonly crossCheck = new HaproxyCrossCheck();
  #reportedMissing = 0;
  #disagreeing = false;

  constructor(config: AccessLogMetricsConfig, ctx: DriverContext) {
    this.#config = config;
    this.#ctx = ctx;
    let receiver: AccessLogReceiver | null = null;
    try {
      receiver = acquireReceiver(config.listen, ctx.service, config.maxLinesPerSecond);
    } catch (err) {
      this.#refused = (err as Error).message;
    }
    this.#receiver = receiver;
    this.#timer = setInterval(() => void this.#beat(), config.heartbeat);
    this.#timer.unref();
    void this.#beat();
  }

  /** Re-read the router's description, send each instance a heartbeat, report counts that grew. */
  async #beat(): Promise<void> {
    await this.#refresh();
    const sources = this.#stream?.sources ?? [];
    await Promise.all(
      sources.map(async (s) => {
        try {
          const res = await fetch(s.heartbeatUrl, {
            signal: AbortSignal.any([AbortSignal.timeout(HEARTBEAT_TIMEOUT_MS), this.#closing.signal]),
          });
          await res.body?.cancel();
          this.#heartbeats.set(s.source, `its heartbeat GET ${s.heartbeatUrl} answered ${res.status}`);
        } catch (err) {
          const e = err as Error & { cause?: { code?: string } };
          const why =
            e.name === 'TimeoutError' ? `no answer within ${HEARTBEAT_TIMEOUT_MS} ms` : (e.cause?.code ?? e.message);
          this.#heartbeats.set(s.source, `its heartbeat GET ${s.heartbeatUrl} failed: ${why}`);
        }
      }),
    );
    if (this.#stream !== null && this.#receiver !== null) await this.crossCheck.check(this.#stream, this.#receiver);
    this.#report();
  }

  async #refresh(): Promise<void> {
    try {
      this.#stream = await readLogStream(this.#ctx.serviceDir);
      this.#streamError = null;
      if (this.#stream !== null) this.#receiver?.assign(this.#stream.upstreams);
    } catch (err) {
      this.#streamError = (err as Error).message;
    }
  }

  #report(): void {
    const r = this.#receiver;
    const now = Date.now();
    const disagreements = this.crossCheck.disagreements();
    // A disagreement that starts is reported at once; growing counts at most every REPORT_EVERY_MS.
    const starts = disagreements.length > 0 && !this.#disagreeing;
    this.#disagreeing = disagreements.length > 0;
    if (r === null || (now - this.#reportedAt < REPORT_EVERY_MS && !starts)) return;
    const c = r.counts;
    let missing = 0;
    for (const f of this.crossCheck.figures.values()) if ('missing' in f) missing += f.missing;
    const grew =
      c.garbage > this.#reported.garbage ||
      c.dropped > this.#reported.dropped ||
      c.unattributed > this.#reported.unattributed ||
      (missing > this.#reportedMissing && disagreements.length > 0) ||
      starts;
    if (!grew) return;
    const lost =
      disagreements.length > 0
        ? `; lines disagree with HAProxy's own counters (lost or late lines): ${disagreements.join('; ')}`
        : '';
    this.#ctx.log(
      'warn',
      `access log on ${r.listen}: ${c.garbage} unreadable, ${c.dropped} dropped, ${c.unattributed} for no known revision, of ${c.lines + c.garbage + c.dropped} datagrams${lost}`,
      { ...c, missing, disagreements },
    );
    this.#reported = { ...c };
    this.#reportedMissing = missing;
    this.#reportedAt = now;
  }

  /** Why no figure can be trusted now, or null. */
  #problem(now: number): string | null {
    if (this.#refused !== null) return this.#refused;
    const r = this.#receiver!;
    if (r.error !== null) return r.error;
    if (this.#streamError !== null) return this.#streamError;
    const stream = this.#stream;
    if (stream === null || stream.sources.length === 0) {
      return `no router sends its access log here yet (${this.#ctx.serviceDir}/router/log-stream.json is missing): set router.accessLog to ${this.#config.listen}`;
    }
    // A stream that has not had `silence` to show itself is not judged silent yet.
    const since = Math.max(this.#startedAt, r.startedAt);
    for (const s of stream.sources) {
      const last = r.lastLineAt.get(s.source) ?? since;
      if (now - last > this.#config.silence) {
        const seen = r.lastLineAt.has(s.source) ? `for ${Math.round((now - last) / 1000)}s` : 'yet';
        return `no access-log line from router ${s.source} on ${r.listen} ${seen} (${this.#heartbeats.get(s.source) ?? 'no heartbeat sent yet'})`;
      }
    }
    return null;
  }

  async collect(keys: string[], windowMs: number): Promise<Record<string, Measurement>> {
    await this.#refresh();
    // HAProxy's counters are read now too (waited for COUNTERS_WAIT_MS at most): attempts it retried
    // elsewhere count before the figures are taken.
    if (this.#stream !== null && this.#receiver !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.crossCheck.check(this.#stream, this.#receiver),
        new Promise((resolve) => (timer = setTimeout(resolve, COUNTERS_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    const now = Date.now();
    const problem = this.#problem(now);
    if (problem !== null) {
      const message = `service "${this.#ctx.service}": ${problem}`;
      return Object.fromEntries(keys.map((key) => [key, { kind: 'error', message } satisfies Measurement]));
    }
    const r = this.#receiver!;
    const covered = Math.min(windowMs, Math.max(1, now - r.startedAt));
    const out: Record<string, Measurement> = {};
    for (const key of keys) {
      const window = emptySum();
      const total = emptySum();
      for (const u of r.upstreams.values()) {
        if (u.key !== key) continue;
        const w = u.metrics.window(now, windowMs);
        add(window, w);
        add(total, w.total);
      }
      out[key] =
        window.requests === 0
          ? { kind: 'noData' }
          : { kind: 'stats', stats: { ...window, windowMs: covered }, totals: { ...total, since: r.startedAt } };
    }
    return out;
  }

  watch(key: string, signal: AbortSignal): Promise<void> {
    const r = this.#receiver;
    const aborted = AbortSignal.any([signal, this.#closing.signal]);
    return new Promise((resolve, reject) => {
      if (aborted.aborted) return reject(aborted.reason);
      // Without a receiver nothing arrives: wait for the abort (collect reports the problem).
      const stop = r?.onBad((upstream) => {
        if (r.keyOf(upstream) !== key) return;
        done();
        resolve();
      });
      const onAbort = (): void => {
        done();
        reject(aborted.reason);
      };
      const done = (): void => {
        stop?.();
        aborted.removeEventListener('abort', onAbort);
      };
      aborted.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#closing.abort(new Error('the metrics provider was closed'));
    if (this.#receiver !== null) releaseReceiver(this.#receiver);
  }
}
