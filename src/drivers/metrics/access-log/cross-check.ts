/**
 * HAProxy's own per-server counters held against the lines received: each HAProxy instance with a
 * runtime API socket is asked `show stat`; the requests its servers took since the first reading
 * (`stot`, less those still in flight, `scur`) and the lines that came from it since then should
 * match. What HAProxy served and never logged here is `missing`: lines lost on the way (UDP), or
 * late. Counters that went back (a restarted haproxy) start the comparison again.
 */
import { serverStat } from '../../routers/haproxy/runtime-api.ts';
import type { LogStreamFile } from '../../access-log.ts';
import type { AccessLogReceiver } from './receiver.ts';

export interface CrossCheckFigures {
  source: string;
  /** Requests HAProxy's servers answered since the comparison started. */
  served: number;
  /** Lines from this instance since then. */
  logged: number;
  missing: number;
}

const sum = (m: Map<string, number>, servers: Record<string, string>) =>
  Object.keys(servers).reduce((n, s) => n + (m.get(s) ?? 0), 0);

export class HaproxyCrossCheck {
  readonly #base = new Map<string, { served: number; logged: number }>();
  /** The last figures per source, and the error of a source that could not be read. */
  readonly figures = new Map<string, CrossCheckFigures | { source: string; error: string }>();

  async check(stream: LogStreamFile, receiver: AccessLogReceiver): Promise<void> {
    const servers = stream.servers ?? {};
    await Promise.all(
      stream.sources.map(async (s) => {
        if (s.adminSocket === undefined) return;
        try {
          const [total, current] = await Promise.all([
            serverStat(s.adminSocket, 'stot'),
            serverStat(s.adminSocket, 'scur'),
          ]);
          const served = sum(total, servers) - sum(current, servers);
          const logged = receiver.requestLines.get(s.source) ?? 0;
          let base = this.#base.get(s.source);
          if (base === undefined || served < base.served) {
            base = { served, logged };
            this.#base.set(s.source, base);
          }
          const figures = { source: s.source, served: served - base.served, logged: logged - base.logged, missing: 0 };
          figures.missing = Math.max(0, figures.served - figures.logged);
          this.figures.set(s.source, figures);
        } catch (err) {
          this.figures.set(s.source, {
            source: s.source,
            error: `show stat on ${s.adminSocket}: ${(err as Error).message}`,
          });
        }
      }),
    );
  }
}
