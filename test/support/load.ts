/**
 * A bounded, open-loop HTTP load generator for end-to-end tests and benchmarks. Requests go out on
 * a fixed schedule whatever the server does, as real users would; when `concurrency` requests are
 * already in flight a scheduled request is skipped instead of queued, so a slow target shows up as
 * skips and latency, never as unbounded memory. A skipped request is a failed one (a sample with
 * status 0 and `skipped`): a user whose request cannot even be sent did not get an answer, and a
 * stalled target must not pass a test that counts failures. Only loopback targets are allowed.
 */
import http from 'node:http';

export interface LoadOptions {
  url: string;
  /** Requests per second, scheduled on a timer. */
  rps: number;
  /** Most requests in flight at once; default 256 (at the tests' 200–250 requests/s, a stall of about a second before requests are skipped, and a skipped request is a failed one). */
  concurrency?: number;
  /** Stops by itself after this long; default 60000, capped at 10 minutes. */
  durationMs?: number;
  /** Extra headers for request i (e.g. a sticky user id). */
  headers?: (i: number) => Record<string, string>;
  /** Per-request timeout; default 10000. */
  timeoutMs?: number;
}

export interface Sample {
  i: number;
  /** Epoch ms (performance.timeOrigin + performance.now()). */
  start: number;
  end: number;
  /** 0 = connection error, timeout, or not sent (skipped). */
  status: number;
  /** The x-version response header. */
  version: string | null;
  error?: string;
  /** Not sent: `concurrency` requests were in flight when it came due (start = end = that time). */
  skipped?: true;
}

export interface LoadReport {
  /** Requests actually sent. */
  sent: number;
  /** Answered with a status below 500. */
  ok: number;
  /** Status 0 (connection error, timeout, skipped) or >= 500. */
  failed: number;
  /** Of `failed`: scheduled but not sent because `concurrency` requests were in flight. */
  skipped: number;
  /** Per x-version header; requests without one count under "unknown". */
  byVersion: Record<string, { ok: number; failed: number }>;
  /** Latency percentiles over the requests that got a response (NaN when none did). */
  p50Ms: number;
  p99Ms: number;
  /** Completed (sent) requests per second, from the start until the last one ended. */
  rps: number;
  samples: Sample[];
}

export interface Load {
  /** Live: appended as requests complete. */
  samples: Sample[];
  /** Stops scheduling, waits for in-flight requests (bounded by timeoutMs) and reports. */
  stop(): Promise<LoadReport>;
  /** Resolves with the report once durationMs has passed (or stop() was called) and nothing is in flight. */
  done: Promise<LoadReport>;
}

const MAX_DURATION_MS = 10 * 60_000;

/** Nearest-rank percentile, p in 0..100; NaN for no values. Does not reorder `values`. */
export function percentile(values: number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p=${p} is not valid; write a number from 0 to 100`);
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

/** True for localhost, 127.0.0.0/8 and ::1: this workplace allows no traffic elsewhere. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(host) && host.split('.').every((part) => Number(part) <= 255);
}

function checkOptions(opts: LoadOptions): URL {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new TypeError(`startLoad: url "${opts.url}" is not a URL; write e.g. http://127.0.0.1:8080/`);
  }
  if (url.protocol !== 'http:') throw new TypeError(`startLoad: url "${opts.url}" must use http:`);
  if (!isLoopback(url.hostname)) {
    throw new TypeError(`startLoad: url "${opts.url}" is not a loopback address; use localhost, 127.0.0.0/8 or [::1]`);
  }
  const positive = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`startLoad: ${name}=${value} is not valid; write a number above 0`);
    }
  };
  if (opts.rps === undefined) throw new RangeError('startLoad: rps is required; write a number above 0');
  positive('rps', opts.rps);
  positive('concurrency', opts.concurrency);
  positive('durationMs', opts.durationMs);
  positive('timeoutMs', opts.timeoutMs);
  return url;
}

const now = () => performance.timeOrigin + performance.now();

export function startLoad(opts: LoadOptions): Load {
  const url = checkOptions(opts);
  const concurrency = Math.floor(opts.concurrency ?? 256) || 1;
  const durationMs = Math.min(opts.durationMs ?? 60_000, MAX_DURATION_MS);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = 1000 / opts.rps;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

  const samples: Sample[] = [];
  const startedAt = now();
  /** Requests whose scheduled time has come (sent or skipped). */
  let scheduled = 0;
  let sent = 0;
  let skipped = 0;
  let inflight = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish: (report: LoadReport) => void = () => {};
  const done = new Promise<LoadReport>((resolve) => (finish = resolve));

  const settleIfIdle = () => {
    if (!stopped || inflight > 0) return;
    agent.destroy();
    finish(report(samples, sent, skipped, startedAt));
  };

  const fire = (i: number) => {
    inflight += 1;
    sent += 1;
    const start = now();
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const complete = (status: number, version: string | null, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      inflight -= 1;
      samples.push(
        error === undefined
          ? { i, start, end: now(), status, version }
          : { i, start, end: now(), status, version, error },
      );
      settleIfIdle();
    };
    try {
      const req = http.request(url, { agent, headers: opts.headers?.(i) ?? {} }, (res) => {
        const raw = res.headers['x-version'];
        const version = (Array.isArray(raw) ? raw[0] : raw) ?? null;
        res.on('end', () => complete(res.statusCode ?? 0, version));
        // 'close' without 'end': the body was cut (timeout, reset).
        res.on('close', () => complete(0, version, res.errored?.message ?? 'response closed before its end'));
        res.on('error', () => {});
        res.resume();
      });
      deadline = setTimeout(() => req.destroy(new Error(`timeout after ${timeoutMs}ms`)), timeoutMs);
      req.on('error', (err) => complete(0, null, err.message));
      req.end();
    } catch (err) {
      complete(0, null, err instanceof Error ? err.message : String(err));
    }
  };

  // Catch up on every request whose time has come, then sleep until the next one is due. At high
  // rates one tick sends several requests, which keeps the average rate exact despite timer slack.
  const total = Math.floor((durationMs / 1000) * opts.rps);
  const tick = () => {
    const due = Math.min(total, Math.floor((now() - startedAt) / intervalMs) + 1);
    while (scheduled < due) {
      const i = scheduled++;
      if (inflight < concurrency) fire(i);
      else {
        skipped += 1;
        const at = startedAt + i * intervalMs;
        samples.push({
          i,
          start: at,
          end: at,
          status: 0,
          version: null,
          error: `not sent: ${concurrency} requests already in flight`,
          skipped: true,
        });
      }
    }
    if (scheduled >= total) return halt();
    timer = setTimeout(tick, Math.max(0, startedAt + scheduled * intervalMs - now()));
  };
  const halt = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    settleIfIdle();
  };

  tick();
  return {
    samples,
    done,
    stop: () => {
      halt();
      return done;
    },
  };
}

function report(samples: Sample[], sent: number, skipped: number, startedAt: number): LoadReport {
  const byVersion: LoadReport['byVersion'] = {};
  const latencies: number[] = [];
  let ok = 0;
  let lastEnd = startedAt;
  let completed = 0;
  for (const s of samples) {
    const failed = s.status === 0 || s.status >= 500;
    const entry = (byVersion[s.version ?? 'unknown'] ??= { ok: 0, failed: 0 });
    if (failed) entry.failed += 1;
    else entry.ok += 1;
    if (!failed) ok += 1;
    if (s.status !== 0) latencies.push(s.end - s.start);
    if (s.skipped) continue;
    completed += 1;
    if (s.end > lastEnd) lastEnd = s.end;
  }
  const seconds = (lastEnd - startedAt) / 1000;
  return {
    sent,
    ok,
    failed: samples.length - ok,
    skipped,
    byVersion,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    rps: seconds > 0 ? completed / seconds : 0,
    samples,
  };
}

/**
 * From the first failing request `version` answered (5xx, by the load's clock) to the server's
 * `trafficRevertedAt` (ISO, by Date.now; the two clocks are aligned here), and the failures the
 * version answered in between: what a user of a bad canary met.
 */
export function revertAfterFirstFailure(
  samples: Sample[],
  version: string,
  trafficRevertedAt: string,
): { revertMs: number; failedBefore: number; failures: Sample[] } {
  const skew = performance.timeOrigin + performance.now() - Date.now();
  const revertedAt = Date.parse(trafficRevertedAt) + skew;
  const failures = samples.filter((s) => s.version === version && s.status >= 500);
  const firstFail = Math.min(...failures.map((s) => s.start));
  return {
    revertMs: revertedAt - firstFail,
    failedBefore: failures.filter((s) => s.start <= revertedAt).length,
    failures,
  };
}
