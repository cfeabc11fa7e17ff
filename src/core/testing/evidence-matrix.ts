/**
 * Promote only on evidence, measured: simulated releases across traffic levels, step lengths and
 * regressions, counting how often a bad canary reached 100% (it must never) and how long a healthy
 * one took to get there. The unit tests run a few releases per cell; `npm run bench:judges` runs
 * a thousand.
 */
import { contract } from './fixtures.ts';
import { simulate, type VersionModel } from './simulator.ts';
import type { RollbackContract, Step } from '../types.ts';

/** The contract every cell is judged by: +0.5 points of errors, p95 at most 1.5× the baseline's, the sequential judge. */
export const MATRIX_CONTRACT: RollbackContract = contract({
  intervalMs: 1000,
  // An hour: long enough for a healthy canary at 5 req/s to show it is within +0.5 points, so the
  // time-to-promote table has a figure at every traffic level (a real contract would use wider steps).
  maxInconclusiveMs: 3_600_000,
  rules: [
    {
      name: 'error_rate',
      metric: 'error_rate',
      failIf: { op: 'above', reference: 'baseline', by: 0.005 },
      judge: 'sequential',
    },
    {
      name: 'latency_p95',
      metric: 'latency_p95',
      failIf: { op: 'above', reference: 'baseline', times: 1.5 },
      judge: 'sequential',
    },
  ],
});

/** Both revisions have 0.1% background errors and answer in 16–24 ms. */
export const STABLE: VersionModel = { errorRate: 0.001, latencyMs: 20 };

export interface Regression {
  name: string;
  /** Whether the rule forbids it: a bad canary must never be promoted, a good one should be. */
  bad: boolean;
  canary: VersionModel | ((t: number) => VersionModel);
}

export const REGRESSIONS: Regression[] = [
  { name: 'healthy', bad: false, canary: STABLE },
  { name: 'errors_10pct', bad: true, canary: { errorRate: 0.1, latencyMs: 20 } },
  { name: 'errors_plus_1pt', bad: true, canary: { errorRate: 0.011, latencyMs: 20 } },
  { name: 'slow_800ms', bad: true, canary: { errorRate: 0.001, latencyMs: 820 } },
  { name: 'p95_x2', bad: true, canary: { errorRate: 0.001, latencyMs: 40 } },
  // Healthy for the first 20 s, then 10% errors: a failure that starts mid-step.
  {
    name: 'errors_10pct_from_20s',
    bad: true,
    canary: (t) => (t < 20_000 ? STABLE : { errorRate: 0.1, latencyMs: 20 }),
  },
];

export const TRAFFIC_RPS = [5, 20, 40, 200];
export const STEP_LENGTHS_MS = [5_000, 300_000];

export function matrixSteps(pauseMs: number): Step[] {
  return [
    { kind: 'setWeight', weight: 10 },
    { kind: 'pause', durationMs: pauseMs },
    { kind: 'setWeight', weight: 50 },
    { kind: 'pause', durationMs: pauseMs },
  ];
}

export interface CellResult {
  rps: number;
  stepMs: number;
  regression: string;
  bad: boolean;
  releases: number;
  promoted: number;
  rolledBack: number;
  /** Held for a person after maxInconclusive (or still holding when the simulation ended). */
  held: number;
  /** Seconds from the release's start to 100%, for the promoted ones, sorted. */
  promoteSeconds: number[];
}

/** `releases` simulated releases of one cell, seeds `seed0 + 1 …`. */
export function runCell(
  rps: number,
  stepMs: number,
  regression: Regression,
  releases: number,
  seed0 = 0,
  tickMs = 100,
): CellResult {
  const out: CellResult = {
    rps,
    stepMs,
    regression: regression.name,
    bad: regression.bad,
    releases,
    promoted: 0,
    rolledBack: 0,
    held: 0,
    promoteSeconds: [],
  };
  const steps = matrixSteps(stepMs);
  // Long enough for every step and a full maxInconclusive hold at each of the two levels.
  const durationMs = 2 * stepMs + 2 * MATRIX_CONTRACT.maxInconclusiveMs + 60_000;
  for (let i = 1; i <= releases; i++) {
    const r = simulate({
      seed: seed0 + i,
      steps,
      contract: MATRIX_CONTRACT,
      stable: STABLE,
      canary: regression.canary,
      rps,
      durationMs,
      tickMs,
      stopWhenPaused: true,
    });
    const start = r.events.findIndex((e) => e.type === 'release.started' && e.release.to.key === '2');
    const completing = r.events.slice(start).find((e) => e.type === 'release.completing');
    if (completing !== undefined) {
      out.promoted++;
      out.promoteSeconds.push((completing.at - r.events[start]!.at) / 1000);
    } else if (r.state.release?.status === 'RolledBack') {
      out.rolledBack++;
    } else {
      out.held++;
    }
  }
  out.promoteSeconds.sort((a, b) => a - b);
  return out;
}

/** The q-quantile of sorted values (null when empty). */
export function quantileOf(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
