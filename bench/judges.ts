/**
 * Judge benchmark: synthetic request streams whose truth is known, judged by the sequential,
 * mannWhitney and threshold judges side by side on the same streams. Prints one JSON object.
 *
 *   node bench/judges.ts [--releases 1000] [--runs 100] [--seed 1] [--quick]
 *
 * (a) false rollbacks: healthy releases (canary = baseline), 10 min each, evaluated every 1 s
 *     (mannWhitney every 10 s, on 1-s points); a release is rolled back at its first Fail.
 * (b) time to detect six regressions, in canary requests and seconds, by the rule that watches the
 *     regression (error_rate or latency_p95): sequential and threshold evaluated every 100 ms (every
 *     5th canary request), mannWhitney every 10 s.
 * Traffic: 50 canary requests/s, baseline 9× that (450/s). See bench/README.md for the figures.
 * (c) promote only on evidence (`--matrix N`, default 1000 per cell; 0 skips it): whole simulated
 *     releases at 5, 20, 40 and 200 requests/s, 5 s and 5 min steps, six regressions; false
 *     promotions and time to promote a healthy canary (bench/promotion-matrix.ts).
 */
import { parseArgs } from 'node:util';
import { BUCKETS, bucketValue, quantile } from '../src/core/analysis/histogram.ts';
import { classifyMetric, scoreMetrics } from '../src/core/analysis/judges/kayenta.ts';
import { sequentialLatency } from '../src/core/analysis/judges/sequential-latency.ts';
import { sequentialRate } from '../src/core/analysis/judges/sequential-rate.ts';
import { normalCdf } from '../src/core/analysis/judges/special.ts';
import { thresholdJudge } from '../src/core/analysis/judges/threshold.ts';
import type { Condition, HistogramCounts, WindowStats } from '../src/core/types.ts';
import { describeMachine } from './machine.ts';
import { rng } from '../src/core/testing/simulator.ts';
import { promotionMatrix } from './promotion-matrix.ts';
import { MATRIX_CONTRACT, STABLE } from '../src/core/testing/evidence-matrix.ts';

const CANARY_PER_TICK = 5; // 50 rps in 100 ms ticks
const BASELINE_PER_TICK = 45;
const PER_TICK = CANARY_PER_TICK + BASELINE_PER_TICK;
const RELEASE_TICKS = 6000; // 10 min
const THRESHOLD_WINDOW_TICKS = 300; // the contract default: window 30s, minSamples 50
const ERROR_RULE: Condition = { op: 'above', reference: 'baseline', by: 0.002 };
const LATENCY_RULE: Condition = { op: 'above', reference: 'baseline', by: 50 };
const README_ERROR_RULE: Condition = { op: 'above', reference: 'baseline', by: 0.01 };
const README_LATENCY_RULE: Condition = { op: 'above', reference: 'baseline', by: 500 };

/** A revision's behaviour: error rate, and latency = shift + lognormal(median, sigma). */
interface Profile {
  errorRate: number;
  medianMs: number;
  sigma: number;
  shiftMs: number;
}
const BASELINE: Profile = { errorRate: 0.001, medianMs: 40, sigma: 0.5, shiftMs: 0 };
const SCENARIOS: Record<string, Profile> = {
  error_0_1_to_1pct: { ...BASELINE, errorRate: 0.01 },
  error_0_1_to_5pct: { ...BASELINE, errorRate: 0.05 },
  fail_all: { ...BASELINE, errorRate: 1 },
  p95_plus_100ms: { ...BASELINE, shiftMs: 100 },
  p95_plus_500ms: { ...BASELINE, shiftMs: 500 },
  variance_x2_same_median: { ...BASELINE, sigma: 1.0 },
};

/** Draws a request's histogram bucket directly from the profile's CDF at the bucket edges. */
function bucketSampler(p: Profile): (u: number) => number {
  const half = Math.sqrt(bucketValue(2) / bucketValue(1));
  const cdf = new Float64Array(BUCKETS);
  for (let i = 0; i < BUCKETS; i++) {
    const edge = i === 0 ? bucketValue(0) : bucketValue(i) * half;
    cdf[i] =
      i === BUCKETS - 1 ? 1 : edge <= p.shiftMs ? 0 : normalCdf(Math.log((edge - p.shiftMs) / p.medianMs) / p.sigma);
  }
  return (u) => {
    let lo = 0;
    let hi = BUCKETS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! >= u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

interface Side {
  requests: number;
  errors: number;
  latency: HistogramCounts;
}
const side = (): Side => ({ requests: 0, errors: 0, latency: {} });
const add = (s: Side, bucket: number, error: boolean, sign = 1) => {
  s.requests += sign;
  if (error) s.errors += sign;
  s.latency[bucket] = (s.latency[bucket] ?? 0) + sign;
};
const stats = (s: Side, windowMs: number): WindowStats => ({
  requests: s.requests,
  errors: s.errors,
  latency: s.latency,
  windowMs,
});

/** One release's request stream with the three views the judges read: cumulative, sliding window, 1-s points. */
class Release {
  tick = 0;
  readonly total = { canary: side(), baseline: side() };
  readonly window = { canary: side(), baseline: side() };
  readonly points = {
    canaryErrors: [] as number[],
    baselineErrors: [] as number[],
    canaryP95: [] as number[],
    baselineP95: [] as number[],
  };
  private second = { canary: side(), baseline: side() };
  /** The window's ticks as flat rings: bucket and error flag of each request, canary first. */
  private readonly ringBucket = new Int16Array(THRESHOLD_WINDOW_TICKS * PER_TICK);
  private readonly ringError = new Uint8Array(THRESHOLD_WINDOW_TICKS * PER_TICK);
  private readonly rand: () => number;
  private readonly canary: (u: number) => number;
  private readonly base: (u: number) => number;
  private readonly canaryErrorRate: number;
  constructor(profile: Profile, seed: number) {
    this.rand = rng(seed);
    this.canary = bucketSampler(profile);
    this.base = bucketSampler(BASELINE);
    this.canaryErrorRate = profile.errorRate;
  }

  step(): void {
    const at = (this.tick % THRESHOLD_WINDOW_TICKS) * PER_TICK;
    const full = this.tick >= THRESHOLD_WINDOW_TICKS;
    // Which requests of the tick fail: a binomial count by inversion (one draw), placed first in the tick.
    const canaryErrors = binomial(CANARY_PER_TICK, this.canaryErrorRate, this.rand());
    const baselineErrors = binomial(BASELINE_PER_TICK, BASELINE.errorRate, this.rand());
    for (let i = 0; i < PER_TICK; i++) {
      const isCanary = i < CANARY_PER_TICK;
      const who = isCanary ? 'canary' : 'baseline';
      if (full) add(this.window[who], this.ringBucket[at + i]!, this.ringError[at + i] === 1, -1);
      const b = (isCanary ? this.canary : this.base)(this.rand());
      const e = isCanary ? i < canaryErrors : i - CANARY_PER_TICK < baselineErrors;
      this.ringBucket[at + i] = b;
      this.ringError[at + i] = e ? 1 : 0;
      add(this.total[who], b, e);
      add(this.window[who], b, e);
      add(this.second[who], b, e);
    }
    this.tick++;
    if (this.tick % 10 === 0) {
      const { canary, baseline } = this.second;
      this.points.canaryErrors.push(canary.errors / canary.requests);
      this.points.baselineErrors.push(baseline.errors / baseline.requests);
      this.points.canaryP95.push(quantile(canary.latency, 0.95)!);
      this.points.baselineP95.push(quantile(baseline.latency, 0.95)!);
      this.second = { canary: side(), baseline: side() };
    }
  }
}

/** The number of successes in n Bernoulli(p) draws, from one uniform u, by inverting the CDF. */
function binomial(n: number, p: number, u: number): number {
  if (p >= 1) return n;
  let k = 0;
  let pk = (1 - p) ** n;
  let cdf = pk;
  while (u > cdf && k < n) {
    pk *= ((n - k) / (k + 1)) * (p / (1 - p));
    k++;
    cdf += pk;
  }
  return k;
}

type JudgeKey = 'sequential' | 'mannWhitney' | 'threshold' | 'thresholdReadme';

/** Which rules a run evaluates: both for healthy releases (the whole contract), the scenario's own when timing a detection. */
type Rules = 'both' | 'error_rate' | 'latency_p95';

function thresholdFails(r: Release, rules: Rules, errorRule: Condition, latencyRule: Condition): boolean {
  const input = { canary: stats(r.window.canary, 30_000), baseline: stats(r.window.baseline, 30_000) };
  return (
    (rules !== 'latency_p95' &&
      thresholdJudge(input, { metric: 'error_rate', condition: errorRule }).outcome === 'Fail') ||
    (rules !== 'error_rate' &&
      thresholdJudge(input, { metric: 'latency_p95', condition: latencyRule }).outcome === 'Fail')
  );
}

/** Whether each judge fails the release at this point (the first Fail rolls back). */
const FAILS: Record<JudgeKey, (r: Release, rules: Rules) => boolean> = {
  sequential: (r, rules) =>
    (rules !== 'latency_p95' && sequentialRate(r.total, { condition: ERROR_RULE }).outcome === 'Fail') ||
    (rules !== 'error_rate' &&
      sequentialLatency(r.total, { condition: LATENCY_RULE, quantile: 0.95 }).outcome === 'Fail'),
  threshold: (r, rules) => thresholdFails(r, rules, ERROR_RULE, LATENCY_RULE),
  /** The README's contract (error rate +1 point, p95 +500 ms): loose enough not to fire as often on noise. */
  thresholdReadme: (r, rules) => thresholdFails(r, rules, README_ERROR_RULE, README_LATENCY_RULE),
  mannWhitney: (r, rules) => {
    const p = r.points;
    if (p.canaryErrors.length < 10) return false;
    const metrics = [];
    if (rules !== 'latency_p95')
      metrics.push({
        name: 'error_rate',
        classification: classifyMetric(p.canaryErrors, p.baselineErrors, { direction: 'increase' }).classification,
      });
    if (rules !== 'error_rate')
      metrics.push({
        name: 'latency_p95',
        classification: classifyMetric(p.canaryP95, p.baselineP95, { direction: 'increase' }).classification,
      });
    return scoreMetrics(metrics).outcome === 'Fail';
  },
};

/** Ticks between evaluations: healthy runs as the brief says (1 s; Kayenta-style every 10 s), detection finer. */
const EVERY = {
  healthy: { sequential: 10, threshold: 10, thresholdReadme: 10, mannWhitney: 100 },
  detect: { sequential: 1, threshold: 1, thresholdReadme: 1, mannWhitney: 100 },
} as const;

/** Runs one release to its end (or until every judge has failed it); returns the tick of each judge's first Fail. */
function run(
  profile: Profile,
  rules: Rules,
  seed: number,
  every: Record<JudgeKey, number>,
): Record<JudgeKey, number | null> {
  const r = new Release(profile, seed);
  const failedAt: Record<JudgeKey, number | null> = {
    sequential: null,
    mannWhitney: null,
    threshold: null,
    thresholdReadme: null,
  };
  const keys = Object.keys(FAILS) as JudgeKey[];
  while (r.tick < RELEASE_TICKS && keys.some((k) => failedAt[k] === null)) {
    r.step();
    for (const k of keys)
      if (failedAt[k] === null && r.tick % every[k] === 0 && FAILS[k](r, rules)) failedAt[k] = r.tick;
  }
  return failedAt;
}

function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      releases: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string', default: '1' },
      quick: { type: 'boolean' },
      matrix: { type: 'string' },
    },
  });
  const matrixReleases = Number(values.matrix ?? (values.quick ? 20 : 1000));
  if (!Number.isInteger(matrixReleases) || matrixReleases < 0)
    throw new Error(`--matrix: ${values.matrix} is not a number of releases per cell (0 skips the matrix)`);
  const releases = Number(values.releases ?? (values.quick ? 50 : 1000));
  const runs = Number(values.runs ?? (values.quick ? 10 : 100));
  const seed = Number(values.seed);
  const started = performance.now();
  const machine = describeMachine();
  const keys = Object.keys(FAILS) as JudgeKey[];

  const falseRollbacks: Record<
    JudgeKey,
    { releases: number; rolledBack: number; rate: number; medianSecondsToFalseRollback: number | null }
  > = {} as never;
  const healthy = Array.from({ length: releases }, (_, i) => {
    if (i % 100 === 0) process.stderr.write(`healthy release ${i}/${releases}\n`);
    return run(BASELINE, 'both', seed * 1_000_003 + i, EVERY.healthy);
  });
  for (const k of keys) {
    const at = healthy
      .map((h) => h[k])
      .filter((t): t is number => t !== null)
      .sort((a, b) => a - b);
    falseRollbacks[k] = {
      releases,
      rolledBack: at.length,
      rate: at.length / releases,
      medianSecondsToFalseRollback: at.length ? percentile(at, 0.5)! / 10 : null,
    };
  }

  const detection: Record<string, Record<JudgeKey, unknown>> = {};
  for (const [name, profile] of Object.entries(SCENARIOS)) {
    const rules: Rules = profile.errorRate !== BASELINE.errorRate ? 'error_rate' : 'latency_p95';
    process.stderr.write(`detect ${name}\n`);
    const results = Array.from({ length: runs }, (_, i) =>
      run(profile, rules, seed * 7_000_003 + 10_000 * Object.keys(detection).length + i, EVERY.detect),
    );
    detection[name] = {} as Record<JudgeKey, unknown>;
    for (const k of keys) {
      const ticks = results
        .map((r) => r[k])
        .filter((t): t is number => t !== null)
        .sort((a, b) => a - b);
      const req = (q: number) => (ticks.length ? percentile(ticks, q)! * CANARY_PER_TICK : null);
      const sec = (q: number) => (ticks.length ? percentile(ticks, q)! / 10 : null);
      detection[name]![k] = {
        rule: rules,
        detected: ticks.length,
        runs,
        requests: { median: req(0.5), p90: req(0.9), max: req(1) },
        seconds: { median: sec(0.5), p90: sec(0.9), max: sec(1) },
      };
    }
  }

  const matrix =
    matrixReleases === 0
      ? []
      : await promotionMatrix(matrixReleases, seed, (line) => process.stderr.write(`${line}\n`));
  const bad = matrix.filter((c) => c.bad);
  const promotion =
    matrixReleases === 0
      ? null
      : {
          setup: {
            releasesPerCell: matrixReleases,
            contract: MATRIX_CONTRACT.rules.map((r) => ({ rule: r.name, failIf: (r as { failIf?: unknown }).failIf })),
            maxInconclusiveSeconds: MATRIX_CONTRACT.maxInconclusiveMs / 1000,
            steps: 'setWeight 10, pause, setWeight 50, pause',
            stable: STABLE,
            note: 'a held release paused for a person after maxInconclusive without evidence; it was neither promoted nor rolled back',
          },
          falsePromotions: {
            promoted: sum(bad.map((c) => c.promoted)),
            releases: sum(bad.map((c) => c.releases)),
            target: 0,
          },
          cells: matrix,
        };

  console.log(
    JSON.stringify(
      {
        bench: 'judges',
        setup: {
          canaryRps: 50,
          baselineRps: 450,
          releaseSeconds: RELEASE_TICKS / 10,
          baseline: BASELINE,
          scenarios: SCENARIOS,
          rules: { error_rate: ERROR_RULE, latency_p95: LATENCY_RULE },
          sequential: { alphaPerRule: 0.005, evaluateEvery: { healthy: '1s', detect: '100ms' } },
          threshold: {
            window: '30s',
            minSamples: 50,
            consecutive: 1,
            evaluateEvery: { healthy: '1s', detect: '100ms' },
          },
          thresholdReadme: {
            rules: { error_rate: README_ERROR_RULE, latency_p95: README_LATENCY_RULE },
            note: "threshold judge with the README contract's looser tolerances",
          },
          mannWhitney: {
            points: '1s (error rate and p95 per second, all points since the canary started)',
            minPoints: 10,
            confLevel: 0.98,
            tolerance: 0.25,
            allowedIncrease: 0,
            direction: 'increase',
            score: 'pass 95, marginal 75, error_rate and latency_p95 weighted equally',
            evaluateEvery: { healthy: '10s', detect: '10s' },
          },
          releases,
          runs,
          seed,
        },
        falseRollbacks,
        detection,
        promotion,
        machine,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      },
      null,
      2,
    ),
  );
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

await main();
