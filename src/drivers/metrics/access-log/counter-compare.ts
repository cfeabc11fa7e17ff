/**
 * HAProxy's per-server counters against the lines of one HAProxy instance, per upstream and per
 * revision (pure: readings in, figures out). Since the first reading, the lines naming an upstream
 * should be the requests HAProxy sent its servers there (`req_tot`) plus those whose last attempt
 * failed there (`econ`), less those still in flight. A difference beyond the tolerance is a
 * disagreement (lines lost on the way, or late). Attempts HAProxy retried elsewhere are never
 * logged: their increments since the last reading are handed out as the upstream's failures.
 * Counters that went back (a reloaded or restarted haproxy) or an upstream that moved to other
 * server slots start the comparison again.
 */
import type { ServerCounters } from '../../routers/haproxy/server-counters.ts';

/** A disagreement is reported beyond max(MIN_TOLERANCE, TOLERANCE_SHARE × expected) lines (plus those in flight). */
export const MIN_TOLERANCE = 2;
export const TOLERANCE_SHARE = 0.01;

type Classes = ServerCounters['responses'];

export interface VersionFigures {
  /** Lines HAProxy's counters say it wrote for this revision since the comparison started. */
  expected: number;
  logged: number;
  /** Counted by HAProxy, not logged here (beyond those in flight): lines lost or late. */
  missing: number;
  /** Lines counted here before `show stat` beyond what HAProxy had counted (duplicates, another instance under this name). */
  extra: number;
  inFlight: number;
  /** Attempts its servers failed and HAProxy retried, since the comparison started (counted as its errors). */
  retriedAttempts: number;
  /** Responses its servers sent, by status class, since the comparison started. */
  responses: Classes;
  /** HAProxy's own averages over its servers' last 1024 requests (weighted by requests), ms. */
  responseMs: number;
  totalMs: number;
  tolerance: number;
  /** `missing` or `extra` beyond the tolerance at this reading and the previous one. */
  disagrees: boolean;
}

interface Base {
  servers: string;
  expected: number;
  logged: number;
  responses: Classes;
  retried: number;
  /** The retried attempts at the previous reading (their increments are handed out as failures). */
  retriedLast: number;
}

/** One upstream's figures summed over the servers that point at it. */
interface Sum {
  servers: string[];
  expected: number;
  retried: number;
  inFlight: number;
  responses: Classes;
  weightedResponseMs: number;
  weightedTotalMs: number;
  requests: number;
}

const noClasses = (): Classes => ({ '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 });
const classKeys = Object.keys(noClasses()) as Array<keyof Classes>;

export const toleranceFor = (expected: number) => Math.max(MIN_TOLERANCE, Math.ceil(TOLERANCE_SHARE * expected));

/** The comparison of one HAProxy instance, kept between readings. */
export class CounterComparison {
  readonly #base = new Map<string, Base>();
  /** The first reading compares from zero (the worker started after the receiver: every line could come). */
  #fromZero: boolean;
  /** The revisions beyond the tolerance at the previous reading. */
  #beyond = new Set<string>();

  constructor(fromZero: boolean) {
    this.#fromZero = fromZero;
  }

  /**
   * One reading: `counters` by `backend/server`, `servers` (`backend/server` → upstream), `keys`
   * (upstream → revision), `lines` (upstream → lines from this instance so far, counted just before
   * `show stat` was sent and just after its answer came: a line counted before can only be for a
   * request HAProxy counted; one HAProxy counted has had its line counted after, unless it is in
   * flight, lost or late). Returns the
   * figures per revision and, per upstream, the retried attempts since the previous reading.
   */
  read(
    counters: ReadonlyMap<string, ServerCounters>,
    servers: Readonly<Record<string, string>>,
    keys: Readonly<Record<string, string>>,
    lines: { before: ReadonlyMap<string, number>; after: ReadonlyMap<string, number> },
  ): { versions: Record<string, VersionFigures>; failed: Map<string, number> } {
    const sums = new Map<string, Sum>();
    for (const [server, upstream] of Object.entries(servers)) {
      const c = counters.get(server);
      if (c === undefined) continue;
      const s = sums.get(upstream) ?? {
        servers: [],
        expected: 0,
        retried: 0,
        inFlight: 0,
        responses: noClasses(),
        weightedResponseMs: 0,
        weightedTotalMs: 0,
        requests: 0,
      };
      sums.set(upstream, s);
      s.servers.push(server);
      s.expected += c.requests + c.connectErrors;
      s.retried += c.retriedAttempts;
      s.inFlight += c.inFlight;
      for (const k of classKeys) s.responses[k] += c.responses[k];
      s.weightedResponseMs += c.responseMs * c.requests;
      s.weightedTotalMs += c.totalMs * c.requests;
      s.requests += c.requests;
    }
    const failed = new Map<string, number>();
    const versions: Record<string, VersionFigures> = {};
    const loggedBefore: Record<string, { n: number }> = {};
    const weights: Record<string, { requests: number; responseMs: number; totalMs: number }> = {};
    for (const [upstream, s] of sums) {
      const signature = s.servers.sort().join(' ');
      const logged = lines.after.get(upstream) ?? 0;
      let base = this.#base.get(upstream);
      const wentBack =
        base !== undefined &&
        (s.expected < base.expected ||
          s.retried < base.retriedLast ||
          classKeys.some((k) => s.responses[k] < base!.responses[k]));
      if (base === undefined && this.#fromZero) {
        base = { servers: signature, expected: 0, logged: 0, responses: noClasses(), retried: 0, retriedLast: 0 };
        this.#base.set(upstream, base);
      } else if (base === undefined || base.servers !== signature || wentBack) {
        base = {
          servers: signature,
          expected: s.expected,
          logged,
          responses: { ...s.responses },
          retried: s.retried,
          retriedLast: s.retried,
        };
        this.#base.set(upstream, base);
      }
      if (s.retried > base.retriedLast) failed.set(upstream, s.retried - base.retriedLast);
      base.retriedLast = s.retried;
      const key = keys[upstream];
      if (key === undefined) continue;
      const v = (versions[key] ??= {
        expected: 0,
        logged: 0,
        missing: 0,
        extra: 0,
        inFlight: 0,
        retriedAttempts: 0,
        responses: noClasses(),
        responseMs: 0,
        totalMs: 0,
        tolerance: 0,
        disagrees: false,
      });
      v.expected += s.expected - base.expected;
      v.logged += logged - base.logged;
      (loggedBefore[key] ??= { n: 0 }).n += (lines.before.get(upstream) ?? 0) - base.logged;
      v.inFlight += s.inFlight;
      v.retriedAttempts += s.retried - base.retried;
      for (const k of classKeys) v.responses[k] += s.responses[k] - base.responses[k];
      const w = (weights[key] ??= { requests: 0, responseMs: 0, totalMs: 0 });
      w.requests += s.requests;
      w.responseMs += s.weightedResponseMs;
      w.totalMs += s.weightedTotalMs;
    }
    this.#fromZero = false;
    const beyondNow = new Set<string>();
    for (const [key, v] of Object.entries(versions)) {
      const w = weights[key]!;
      if (w.requests > 0) {
        v.responseMs = Math.round(w.responseMs / w.requests);
        v.totalMs = Math.round(w.totalMs / w.requests);
      }
      v.missing = Math.max(0, v.expected - v.logged - v.inFlight);
      v.extra = Math.max(0, loggedBefore[key]!.n - v.expected);
      v.tolerance = toleranceFor(v.expected);
      // Late lines catch up by the next reading; only a difference seen twice in a row is a disagreement.
      const beyond = v.missing > v.tolerance || v.extra > v.tolerance;
      v.disagrees = beyond && this.#beyond.has(key);
      if (beyond) beyondNow.add(key);
    }
    this.#beyond = beyondNow;
    return { versions, failed };
  }
}
