/**
 * One healthy release under steady load: v2 is as good as v1, goes 10% → 50% → 100% through
 * timed pauses, and should reach its end with no failed request and no rollback.
 */
import { startLoad } from '../test/support/load.ts';
import { CANARY, SERVICE, STABLE, withStableV1 } from './deployment.ts';
import { failed, SLOW_MS, type LoadPlan } from './rollback-case.ts';
import { healthySteps } from './service-spec.ts';

export interface HealthyRun {
  promoted: boolean;
  error: string | null;
  /** Releases in the service's history that rolled back (or were aborted). */
  rollbacks: number;
  /** Why each of those rolled back, as the controller recorded it. */
  rollbackReasons: string[];
  /** Requests with status 0 or >= 500 over the whole steady load (before, during and after the release). */
  failedRequests: number;
  /** Requests slower than SLOW_MS in the same stretch (reported, not counted as failed). */
  slowRequests: number;
  requests: number;
  byVersion: Record<string, number>;
  /** The release's own duration (startedAt → endedAt) as the controller recorded it. */
  releaseMs: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runHealthyRelease(plan: LoadPlan, pause: string): Promise<HealthyRun> {
  const steps = healthySteps(pause);
  return withStableV1(steps, async (d) => {
    const load = startLoad({ url: d.routerUrl, rps: plan.rps, concurrency: 512, durationMs: 5 * 60_000 });
    let error: string | null = null;
    let releaseMs: number | null = null;
    try {
      await sleep(plan.warmupMs);
      // Same behaviour as v1: only the version differs, which is a release like any other.
      await d.applyCanary({ FAIL_RATE: '0' }, steps);
      const end = await d.server.waitFor(
        (s) => s.release?.toVersion === CANARY && s.release.endedAt !== null,
        `done releasing ${CANARY}`,
        plan.rollbackTimeoutMs,
        SERVICE,
      );
      releaseMs = end.release?.durationMs ?? null;
      // Keep the load on while the old version drains and stops: that is part of the release.
      if (end.release?.status === 'Succeeded') {
        await d.server.waitFor(
          (s) => s.instances[STABLE] === undefined,
          `rid of ${STABLE}`,
          plan.rollbackTimeoutMs,
          SERVICE,
        );
      }
      await sleep(plan.settleMs);
    } catch (err) {
      error = (err as Error).message;
    }
    const report = await load.stop();
    const [status, history] = await Promise.all([d.server.status(SERVICE), d.server.history(SERVICE)]);
    const byVersion: Record<string, number> = {};
    for (const s of report.samples) byVersion[s.version ?? 'none'] = (byVersion[s.version ?? 'none'] ?? 0) + 1;
    const rolledBack = history.filter(
      (r) => r.rollback !== null || r.status === 'RolledBack' || r.status === 'Aborted',
    );
    return {
      promoted: status.phase === 'Healthy' && status.stableVersion === CANARY,
      error,
      rollbacks: rolledBack.length,
      rollbackReasons: rolledBack.map((r) => (r.rollback ? `${r.rollback.trigger}: ${r.rollback.reason}` : r.status)),
      failedRequests: report.samples.filter((s) => failed(s, false)).length,
      slowRequests: report.samples.filter((s) => s.status !== 0 && s.end - s.start > SLOW_MS).length,
      requests: report.samples.length,
      byVersion,
      releaseMs,
    };
  });
}
