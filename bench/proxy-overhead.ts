/**
 * What the built-in proxy costs: the same two instances of v1 driven closed-loop directly (the
 * workers split over both instances, as the proxy splits its traffic) and then through the proxy,
 * alternating for a few rounds so a noisy stretch of the shared machine hits both sides alike.
 */
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.ts';
import { SERVICE, STABLE, withStableV1 } from './deployment.ts';
import { HOLD_AT_10 } from './service-spec.ts';
import { spread, type Spread } from './summary.ts';

export interface OverheadPlan {
  /** Direct-then-proxied rounds. */
  rounds: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

interface Side {
  rps: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  failed: number;
}

export interface ProxyOverhead {
  direct: Side;
  proxied: Side;
  /** Median proxied rps / median direct rps. */
  rpsRatio: number | null;
  /** Median proxied p99 − median direct p99. */
  addedP99Ms: number | null;
  /** Median proxied p50 − median direct p50. */
  addedP50Ms: number | null;
  rounds: { direct: ClosedLoopResult; proxied: ClosedLoopResult }[];
}

function side(results: ClosedLoopResult[]): Side {
  return {
    rps: spread(results.map((r) => r.rps)),
    p50Ms: spread(results.map((r) => r.p50Ms)),
    p99Ms: spread(results.map((r) => r.p99Ms)),
    failed: results.reduce((n, r) => n + r.failed, 0),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : round2(a - b));

export async function measureProxyOverhead(plan: OverheadPlan): Promise<ProxyOverhead> {
  return withStableV1(HOLD_AT_10, async (d) => {
    const instances = (await d.server.status(SERVICE)).instances[STABLE] ?? [];
    if (instances.length === 0) throw new Error(`service ${SERVICE} reports no instance of ${STABLE}`);
    const loop = { concurrency: plan.concurrency, warmupMs: plan.warmupMs, durationMs: plan.durationMs };
    const rounds: ProxyOverhead['rounds'] = [];
    for (let i = 0; i < plan.rounds; i++) {
      const direct = await runClosedLoop({ ...loop, urls: instances.map((instance) => `${instance.url}/`) });
      const proxied = await runClosedLoop({ ...loop, urls: [d.routerUrl] });
      rounds.push({ direct, proxied });
    }
    const direct = side(rounds.map((r) => r.direct));
    const proxied = side(rounds.map((r) => r.proxied));
    return {
      direct,
      proxied,
      rpsRatio:
        direct.rps.median && proxied.rps.median !== null
          ? Math.round((proxied.rps.median / direct.rps.median) * 1000) / 1000
          : null,
      addedP99Ms: delta(proxied.p99Ms.median, direct.p99Ms.median),
      addedP50Ms: delta(proxied.p50Ms.median, direct.p50Ms.median),
      rounds,
    };
  });
}
