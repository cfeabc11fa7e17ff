/** Turns the runs into the figures bench/README.md describes, each target marked met or not. */
import type { HealthyRun } from './healthy-release.ts';
import type { BadCanary, RollbackRun } from './rollback-case.ts';
import { spread, sum, type Spread } from './summary.ts';

/** The issue's targets: the median revert time of each bad canary. */
export const REVERT_TARGET_MS: Record<BadCanary['name'], number> = {
  fail_all: 250,
  fail_10pct: 5000,
  slow_800ms: 5000,
  fail_10pct_40rps_midstep: 30_000,
};
/** Also a bound on the slowest run, where the issue sets one. */
const MAX_TARGET_MS: Partial<Record<BadCanary['name'], number>> = { fail_all: 500 };

export interface RollbackCaseReport {
  env: Record<string, string>;
  target: string;
  met: boolean;
  rolledBack: string;
  revertMs: Spread;
  clientRevertMs: Spread;
  detectMs: Spread;
  controllerRevertMs: Spread;
  failedRequests: Spread;
  failedOnCanary: Spread;
  failedAfterRevert: Spread;
  failedTotal: Spread;
  /** Users who met the bad version: canary-served requests before the revert. */
  canaryBeforeRevert: Spread;
  runs: RollbackRun[];
}

/** `targetMs`: the target behind HAProxy or NGINX (issue 13: median ≤ 1 s), instead of the built-in proxy's. */
export function rollbackCaseReport(bad: BadCanary, runs: RollbackRun[], targetMs?: number): RollbackCaseReport {
  const limit = targetMs ?? REVERT_TARGET_MS[bad.name];
  const most = targetMs === undefined ? MAX_TARGET_MS[bad.name] : undefined;
  const revertMs = spread(runs.map((r) => r.revertMs));
  const allRolledBack = runs.length > 0 && runs.every((r) => r.rolledBack && r.revertMs !== null);
  const withinMost = most === undefined || (revertMs.max !== null && revertMs.max < most);
  return {
    env: bad.env,
    target: `median revertMs < ${limit}${most === undefined ? '' : `, max < ${most}`} and every run rolled back`,
    met: allRolledBack && revertMs.median !== null && revertMs.median < limit && withinMost,
    rolledBack: `${runs.filter((r) => r.rolledBack).length}/${runs.length}`,
    revertMs,
    clientRevertMs: spread(runs.map((r) => r.clientRevertMs)),
    detectMs: spread(runs.map((r) => r.detectMs)),
    controllerRevertMs: spread(runs.map((r) => r.controllerRevertMs)),
    failedRequests: spread(runs.map((r) => r.failedRequests)),
    failedOnCanary: spread(runs.map((r) => r.failedOnCanary)),
    failedAfterRevert: spread(runs.map((r) => r.failedAfterRevert)),
    failedTotal: spread(runs.map((r) => r.failedTotal)),
    canaryBeforeRevert: spread(runs.map((r) => r.canaryBeforeRevert)),
    runs,
  };
}

export interface HealthyReport {
  target: string;
  met: boolean;
  promoted: string;
  failedRequests: number;
  rollbacks: number;
  slowRequests: number;
  releaseMs: Spread;
  runs: HealthyRun[];
}

export function healthyReport(runs: HealthyRun[]): HealthyReport {
  const failedRequests = sum(runs.map((r) => r.failedRequests));
  const rollbacks = sum(runs.map((r) => r.rollbacks));
  const allPromoted = runs.length > 0 && runs.every((r) => r.promoted);
  return {
    target: '0 failed requests and 0 rollbacks over all runs, every run promoted',
    met: allPromoted && failedRequests === 0 && rollbacks === 0,
    promoted: `${runs.filter((r) => r.promoted).length}/${runs.length}`,
    failedRequests,
    rollbacks,
    slowRequests: sum(runs.map((r) => r.slowRequests)),
    releaseMs: spread(runs.map((r) => r.releaseMs)),
    runs,
  };
}
