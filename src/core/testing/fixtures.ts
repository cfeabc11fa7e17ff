import type { RollbackContract, Step } from '../types.ts';

/** A contract like the README's: error rate +1 point, p95 +500 ms, over a 10 s window. */
export function contract(overrides: Partial<RollbackContract> = {}): RollbackContract {
  return {
    intervalMs: 1000,
    windowMs: 10_000,
    minSamples: 50,
    consecutive: 1,
    failureLimit: null,
    maxInconclusiveMs: 60_000,
    metricsErrors: { limit: 3, action: 'pause' },
    rules: [
      { name: 'error_rate', metric: 'error_rate', failIf: { op: 'above', reference: 'baseline', by: 0.01 } },
      { name: 'latency_p95', metric: 'latency_p95', failIf: { op: 'above', reference: 'baseline', by: 500 } },
    ],
    ...overrides,
  };
}

export const STEPS: Step[] = [
  { kind: 'setWeight', weight: 1 },
  { kind: 'pause', durationMs: 10_000 },
  { kind: 'setWeight', weight: 10 },
  { kind: 'pause', durationMs: 10_000 },
  { kind: 'setWeight', weight: 50 },
  { kind: 'pause', durationMs: 10_000 },
];

/** Window figures (no counters): `requests` answered in about `ms`, `errors` of them failed. */
export const windowStats = (requests: number, errors: number, ms = 50) => ({
  kind: 'stats' as const,
  stats: { requests, errors, latency: { [Math.round(Math.log(ms) * 10)]: requests }, windowMs: 10_000 },
});

/** Enough healthy requests for a Pass on evidence under contract(): 2,000 canary requests bound its error rate under +1%. */
export const healthyEvidence = {
  canary: windowStats(2000, 0),
  baseline: windowStats(20_000, 20),
  canaryCrashes: 0,
  baselineCrashes: 0,
};
