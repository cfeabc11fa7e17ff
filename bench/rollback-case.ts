/**
 * One rollback run: steady open-loop load through the router (the built-in proxy, HAProxy or NGINX), a bad v2 held at 10%, and
 * the timeline of its automatic rollback as the client saw it and as the controller recorded it.
 */
import type { ServiceStatus } from '../src/views/index.ts';
import { startLoad, type Sample } from '../test/support/load.ts';
import { CANARY, SERVICE, withStableV1 } from './deployment.ts';
import { HOLD_AT_10, type RouterName } from './service-spec.ts';

export interface BadCanary {
  name: 'fail_all' | 'fail_10pct' | 'slow_800ms' | 'fail_10pct_40rps_midstep';
  env: Record<string, string>;
  /** Requests per second for this case (default: the run's --rps). */
  rps?: number;
  /** The slow case also counts a request answered after SLOW_MS as failed. */
  slow: boolean;
}

export const BAD_CANARIES: BadCanary[] = [
  { name: 'fail_all', env: { FAIL_RATE: '1' }, slow: false },
  { name: 'fail_10pct', env: { FAIL_RATE: '0.1' }, slow: false },
  { name: 'slow_800ms', env: { FAIL_RATE: '0', EXTRA_LATENCY_MS: '800' }, slow: true },
  // A quiet Tuesday morning: the README's traffic, and a canary that goes bad 10 s into its step.
  { name: 'fail_10pct_40rps_midstep', env: { FAIL_RATE: '0.1', FAIL_AFTER_MS: '10000' }, slow: false, rps: 40 },
];

/** A request slower than this failed its user (the healthy service answers in a few ms). */
export const SLOW_MS = 500;

export interface LoadPlan {
  rps: number;
  /** Load on v1 alone before v2 is applied, so the baseline has a full picture. */
  warmupMs: number;
  /** Load kept on after the revert, so late canary answers are seen. */
  settleMs: number;
  rollbackTimeoutMs: number;
}

export interface RollbackRun {
  rolledBack: boolean;
  error: string | null;
  trigger: string | null;
  /** First failing canary request (start) → trafficRevertedAt. */
  revertMs: number | null;
  /** First failing canary request → start of the last request the canary served. */
  clientRevertMs: number | null;
  /** First failing canary request → detectedAt. */
  detectMs: number | null;
  /** The controller's own detectedAt → trafficRevertedAt. */
  controllerRevertMs: number | null;
  /** Failed requests that started between the first failing canary request and trafficRevertedAt. */
  failedRequests: number | null;
  /** Of failedRequests, those the canary answered (the rest are stable requests hit by machine noise). */
  failedOnCanary: number | null;
  /** Failed requests that started after trafficRevertedAt. */
  failedAfterRevert: number | null;
  failedTotal: number;
  requests: number;
  canaryRequests: number;
  /** Users who met the bad version: requests the canary answered that started before trafficRevertedAt. */
  canaryBeforeRevert: number | null;
  skipped: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The load generator's clock (performance) minus the server's (Date.now), both in epoch ms. */
const clockSkew = () => performance.timeOrigin + performance.now() - Date.now();

export function failed(s: Sample, slow: boolean): boolean {
  return s.status === 0 || s.status >= 500 || (slow && s.end - s.start > SLOW_MS);
}

export async function runRollbackCase(
  bad: BadCanary,
  plan: LoadPlan,
  router: RouterName = 'builtin',
): Promise<RollbackRun> {
  return withStableV1(
    HOLD_AT_10,
    async (d) => {
      const load = startLoad({ url: d.routerUrl, rps: bad.rps ?? plan.rps, concurrency: 512, durationMs: 5 * 60_000 });
      let error: string | null = null;
      let status: ServiceStatus | null = null;
      try {
        await sleep(plan.warmupMs);
        await d.applyCanary(bad.env, HOLD_AT_10);
        status = await d.server.waitFor(
          (s) => s.release?.toVersion === CANARY && s.lastRollback?.trafficRevertedAt != null,
          'rolled back',
          plan.rollbackTimeoutMs,
          SERVICE,
        );
        await sleep(plan.settleMs);
      } catch (err) {
        error = (err as Error).message;
      }
      const report = await load.stop();
      const rollback = status?.lastRollback ?? null;
      const skew = clockSkew();
      const serverTime = (iso: string | null | undefined) => (iso ? Date.parse(iso) + skew : null);
      const revertedAt = serverTime(rollback?.trafficRevertedAt);
      const detectedAt = serverTime(rollback?.detectedAt);

      const samples = report.samples;
      const canary = samples.filter((s) => s.version === CANARY);
      const firstFail = Math.min(...canary.filter((s) => failed(s, bad.slow)).map((s) => s.start));
      const firstFailAt = Number.isFinite(firstFail) ? firstFail : null;
      const lastCanaryStart = Math.max(...canary.map((s) => s.start));
      const since = (t: number | null) => (t === null || firstFailAt === null ? null : Math.round(t - firstFailAt));
      const failures = samples.filter((s) => failed(s, bad.slow));
      const between =
        firstFailAt === null || revertedAt === null
          ? null
          : failures.filter((s) => s.start >= firstFailAt && s.start <= revertedAt);
      return {
        rolledBack: revertedAt !== null,
        error,
        trigger: rollback ? `${rollback.trigger}: ${rollback.reason}` : null,
        revertMs: since(revertedAt),
        clientRevertMs: canary.length > 0 ? since(lastCanaryStart) : null,
        detectMs: since(detectedAt),
        controllerRevertMs: rollback?.revertMs ?? null,
        failedRequests: between?.length ?? null,
        failedOnCanary: between?.filter((s) => s.version === CANARY).length ?? null,
        failedAfterRevert: revertedAt === null ? null : failures.filter((s) => s.start > revertedAt).length,
        failedTotal: failures.length,
        requests: samples.length,
        canaryRequests: canary.length,
        canaryBeforeRevert: revertedAt === null ? null : canary.filter((s) => s.start <= revertedAt).length,
        skipped: report.skipped,
      };
    },
    router,
  );
}
