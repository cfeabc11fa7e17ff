import { readFileSync } from 'node:fs';
import { record } from '../../core/analysis/histogram.ts';
import { classifyMetric } from '../../core/analysis/judges/kayenta.ts';
import { JUDGES, type JudgeName } from '../../core/analysis/judges/judgment.ts';
import { sequentialLatency } from '../../core/analysis/judges/sequential-latency.ts';
import { sequentialRate } from '../../core/analysis/judges/sequential-rate.ts';
import { thresholdJudge } from '../../core/analysis/judges/threshold.ts';
import type { Condition, HistogramCounts, MetricName, VerdictOutcome, WindowStats } from '../../core/types.ts';
import { type CommandDef, UsageError } from '../command.ts';

/** `--metric` values: latency alone means p95. */
const METRICS: Record<string, { metric: MetricName; quantile: number | null }> = {
  error_rate: { metric: 'error_rate', quantile: null },
  latency: { metric: 'latency_p95', quantile: 0.95 },
  latency_p50: { metric: 'latency_p50', quantile: 0.5 },
  latency_p90: { metric: 'latency_p90', quantile: 0.9 },
  latency_p95: { metric: 'latency_p95', quantile: 0.95 },
  latency_p99: { metric: 'latency_p99', quantile: 0.99 },
};
const DIRECTIONS = ['increase', 'decrease', 'either'] as const;
type Direction = (typeof DIRECTIONS)[number];

/** Exit codes: 0 Pass, 1 Fail, 2 usage or input error, 5 Inconclusive. */
const EXIT_FOR: Record<VerdictOutcome, number> = { Pass: 0, Fail: 1, Inconclusive: 5 };

/** A problem in a samples file, reported as file:line. */
class InputError extends Error {}

/**
 * One value per line; blank lines and lines starting with # are skipped. For error_rate a file is
 * either all 0/1 (1 = failed request) or HTTP status codes (0 = connection error; ≥ 500 fails).
 */
export function parseSamples(file: string, text: string, errorRate: boolean): number[] {
  const values: number[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const v = Number(line);
    if (!Number.isFinite(v))
      throw new InputError(`${file}:${i + 1}: "${line}" is not a number; write one value per line`);
    if (errorRate && !(Number.isInteger(v) && (v === 0 || v === 1 || (v >= 100 && v <= 599)))) {
      throw new InputError(
        `${file}:${i + 1}: ${line} is neither 0/1 (1 = failed request) nor an HTTP status code (100–599, 0 = connection error)`,
      );
    }
    if (!errorRate && v < 0) throw new InputError(`${file}:${i + 1}: ${line} is not a latency; write milliseconds ≥ 0`);
    values.push(v);
  });
  if (values.length === 0) throw new InputError(`${file}: no values; write one value per line`);
  if (!errorRate) return values;
  const statusCodes = values.some((v) => v > 1);
  return values.map((v) => (statusCodes ? (v === 0 || v >= 500 ? 1 : 0) : v));
}

function readSamples(file: string, errorRate: boolean): number[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseSamples(file, text, errorRate);
}

function stats(values: number[], errorRate: boolean): WindowStats {
  const latency: HistogramCounts = {};
  if (!errorRate) for (const v of values) record(latency, v);
  return { requests: values.length, errors: errorRate ? values.reduce((s, v) => s + v, 0) : 0, latency, windowMs: 0 };
}

/** "10%" → 0.1 */
function percent(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag} "${text}" is not a percentage; write e.g. 10%`);
  return Number(m[1]) / 100;
}

/** --by: an error-rate fraction ("0.005" or "0.5%") or a latency in ms ("50ms" or "50"). */
function absolute(text: string, errorRate: boolean): number {
  const m = errorRate ? /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim()) : /^(\d+(?:\.\d+)?)(ms)?$/.exec(text.trim());
  if (!m)
    throw new UsageError(
      `--by "${text}" is not ${errorRate ? 'an error-rate tolerance; write e.g. 0.005 or 0.5%' : 'a latency tolerance; write e.g. 50ms'}`,
    );
  return Number(m[1]) / (m[2] === '%' ? 100 : 1);
}

interface Check {
  direction: Direction;
  outcome: VerdictOutcome;
  reason: string;
  figures: unknown;
}

export const judgeCommand: CommandDef = {
  name: 'judge',
  summary: 'run a judge offline on two samples files (one value per line); exit 0 Pass, 1 Fail, 5 Inconclusive',
  usage:
    'sluice judge --judge sequential|mannWhitney|threshold --baseline FILE --canary FILE ' +
    '[--metric error_rate|latency|latency_p50…p99] [--direction increase|decrease|either] [--allowed 10%] [--by 0.5%|50ms] ' +
    '[--alpha 0.005] [--min-samples 50] [-o json]',
  options: {
    judge: { type: 'string' },
    baseline: { type: 'string' },
    canary: { type: 'string' },
    metric: { type: 'string', default: 'latency' },
    direction: { type: 'string', default: 'increase' },
    allowed: { type: 'string', default: '0%' },
    by: { type: 'string' },
    alpha: { type: 'string', default: '0.005' },
    'min-samples': { type: 'string', default: '50' },
  },
  async run({ values, json, out }) {
    const judge = JUDGES.find((j) => j === values.judge) as JudgeName | undefined;
    if (judge === undefined)
      throw new UsageError(`--judge "${values.judge ?? ''}" is not a judge; valid: ${JUDGES.join(', ')}`);
    const metric = METRICS[String(values.metric)];
    if (metric === undefined)
      throw new UsageError(`--metric "${values.metric}" is not a metric; valid: ${Object.keys(METRICS).join(', ')}`);
    const direction = DIRECTIONS.find((d) => d === values.direction) as Direction | undefined;
    if (direction === undefined)
      throw new UsageError(`--direction "${values.direction}" is not a direction; valid: ${DIRECTIONS.join(', ')}`);
    if (typeof values.baseline !== 'string' || typeof values.canary !== 'string')
      throw new UsageError('give both --baseline FILE and --canary FILE');
    const allowed = percent('allowed', String(values.allowed));
    const errorRate = metric.quantile === null;
    const by = values.by === undefined ? 0 : absolute(String(values.by), errorRate);
    const alpha = Number(values.alpha);
    if (!(alpha > 0 && alpha < 1))
      throw new UsageError(`--alpha "${values.alpha}" must be a number between 0 and 1, e.g. 0.005`);
    const minSamples = Number(values['min-samples']);
    if (!Number.isInteger(minSamples) || minSamples < 1)
      throw new UsageError(`--min-samples "${values['min-samples']}" must be a whole number ≥ 1`);

    let baseline: number[];
    let canary: number[];
    try {
      baseline = readSamples(values.baseline, errorRate);
      canary = readSamples(values.canary, errorRate);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      console.error(`sluice judge: ${err.message}`);
      return 2;
    }

    // Mann–Whitney classifies both ways at once, as Kayenta; the others run one one-sided test per
    // direction, and the sequential judge splits α between them.
    const sides: Direction[] =
      direction === 'either' && judge !== 'mannWhitney' ? ['increase', 'decrease'] : [direction];
    const sideAlpha = alpha / sides.length;
    const checks: Check[] = sides.map((side): Check => {
      if (judge === 'mannWhitney') {
        const r = classifyMetric(canary, baseline, {
          direction: side,
          allowedIncrease: allowed,
          allowedDecrease: allowed,
        });
        const outcome: VerdictOutcome =
          r.classification === 'Pass' ? 'Pass' : r.classification === 'NoData' ? 'Inconclusive' : 'Fail';
        return {
          direction: side,
          outcome,
          reason: r.reason,
          figures: { classification: r.classification, meanRatio: r.meanRatio, ...r.test },
        };
      }
      const condition: Condition = {
        op: side === 'increase' ? 'above' : 'below',
        reference: 'baseline',
        times: side === 'increase' ? 1 + allowed : 1 - allowed,
        by,
      };
      const input = { canary: stats(canary, errorRate), baseline: stats(baseline, errorRate) };
      const j =
        judge === 'threshold'
          ? thresholdJudge(input, { metric: metric.metric, condition, minSamples })
          : errorRate
            ? sequentialRate(input, { condition, alpha: sideAlpha, minSamples })
            : sequentialLatency(input, { condition, alpha: sideAlpha, minSamples, quantile: metric.quantile! });
      return { direction: side, outcome: j.outcome, reason: j.reason, figures: j.figures };
    });
    const outcome: VerdictOutcome = checks.some((c) => c.outcome === 'Fail')
      ? 'Fail'
      : checks.some((c) => c.outcome === 'Inconclusive')
        ? 'Inconclusive'
        : 'Pass';
    const decisive = checks.find((c) => c.outcome === outcome) ?? checks[0]!;
    // Mann–Whitney compares whole samples (a location shift), not a quantile.
    const metricLabel = judge === 'mannWhitney' && !errorRate ? 'latency' : metric.metric;
    const result = {
      judge,
      metric: metricLabel,
      direction,
      outcome,
      reason: decisive.reason,
      canarySamples: canary.length,
      baselineSamples: baseline.length,
      checks,
    };
    out(
      json
        ? JSON.stringify(result, null, 2)
        : [
            `${judge} ${metricLabel}: ${outcome}`,
            ...checks.map((c) => `  ${c.direction}: ${c.outcome} — ${c.reason}`),
          ].join('\n'),
    );
    return EXIT_FOR[outcome];
  },
};
