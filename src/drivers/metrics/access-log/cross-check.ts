/**
 * HAProxy's own per-server counters held against the lines received: each HAProxy instance with a
 * runtime API socket is asked `show stat`, and its counters are compared per revision with the
 * lines that came from it (counter-compare.ts). What HAProxy served and never logged here is
 * `missing` (lines lost on the way, or late); a revision whose lines disagree with the counters
 * beyond the tolerance is reported. Attempts HAProxy retried on another server (a canary refusing
 * connections) are logged by nobody: they are counted here as the upstream's failed requests.
 */
import { serverCounters, workerStartSec } from '../../routers/haproxy/server-counters.ts';
import type { LogStreamFile } from '../../access-log.ts';
import { CounterComparison, type VersionFigures } from './counter-compare.ts';
import type { AccessLogReceiver } from './receiver.ts';

/** One reading waits this long at most for an instance's answer. */
const READ_TIMEOUT_MS = 1000;

export interface CrossCheckFigures {
  source: string;
  /** Lines HAProxy's counters say it wrote since the comparison started, over every revision. */
  served: number;
  /** Lines from this instance since then. */
  logged: number;
  missing: number;
  /** Per revision key. */
  versions: Record<string, VersionFigures>;
}

export class HaproxyCrossCheck {
  readonly #comparisons = new Map<string, CounterComparison>();
  /** The last figures per source, and the error of a source that could not be read. */
  readonly figures = new Map<string, CrossCheckFigures | { source: string; error: string }>();
  #running: Promise<void> | null = null;

  /** One reading of every instance (a reading already under way is joined, not doubled). */
  check(stream: LogStreamFile, receiver: AccessLogReceiver): Promise<void> {
    this.#running ??= this.#check(stream, receiver).finally(() => (this.#running = null));
    return this.#running;
  }

  async #check(stream: LogStreamFile, receiver: AccessLogReceiver): Promise<void> {
    const servers = stream.servers ?? {};
    await Promise.all(
      stream.sources.map(async (s) => {
        if (s.adminSocket === undefined) return;
        try {
          let comparison = this.#comparisons.get(s.source);
          if (comparison === undefined) {
            // A worker that started no earlier than the receiver (to the second) is compared from zero.
            const started = await workerStartSec(s.adminSocket, READ_TIMEOUT_MS);
            comparison = new CounterComparison(started >= Math.floor(receiver.startedAt / 1000));
            this.#comparisons.set(s.source, comparison);
          }
          const before = new Map(receiver.requestLines.get(s.source));
          const counters = await serverCounters(s.adminSocket, READ_TIMEOUT_MS);
          const after = new Map(receiver.requestLines.get(s.source));
          const { versions, failed } = comparison.read(counters, servers, stream.upstreams, { before, after });
          const now = Date.now();
          for (const [upstream, n] of failed) receiver.failedAttempts(upstream, n, now);
          const all = Object.values(versions);
          const served = all.reduce((n, v) => n + v.expected, 0);
          const logged = all.reduce((n, v) => n + v.logged, 0);
          const missing = all.reduce((n, v) => n + v.missing, 0);
          this.figures.set(s.source, { source: s.source, served, logged, missing, versions });
        } catch (err) {
          this.figures.set(s.source, {
            source: s.source,
            error: `show stat on ${s.adminSocket}: ${(err as Error).message}`,
          });
        }
      }),
    );
  }

  /** The revisions whose lines disagree with HAProxy's counters beyond the tolerance, in words; empty when none. */
  disagreements(): string[] {
    const out: string[] = [];
    for (const f of this.figures.values()) {
      if (!('versions' in f)) continue;
      for (const [key, v] of Object.entries(f.versions)) {
        if (!v.disagrees) continue;
        out.push(
          `revision ${key} on ${f.source}: HAProxy counted ${v.expected} requests, ${v.logged} lines came ` +
            (v.missing > 0 ? `(${v.missing} missing` : `(${v.extra} more than counted`) +
            `, tolerance ${v.tolerance}, ${v.inFlight} in flight)`,
        );
      }
    }
    return out;
  }
}
