/**
 * Verdicts as per-rule columns for the dashboard's charts: built by the server from the log,
 * reduced for long releases, and extended by the browser from the live event stream. Pure, so
 * both sides share it.
 */
import type { ServiceEvent } from '../core/events.ts';
import type { Verdict, VerdictOutcome } from '../core/types.ts';

/** What `GET /api/services/:name/releases/:number/verdicts` answers: each rule's series, up to the log's `lastSeq`. */
export interface VerdictSeries {
  release: string;
  lastSeq: number;
  rules: RuleSeries[];
}

/** One rule's verdicts as columns (cheap to send and to hand to a chart). */
export interface RuleSeries {
  rule: string;
  metric: Verdict['metric'];
  at: number[];
  canary: (number | null)[];
  baseline: (number | null)[];
  threshold: (number | null)[];
  outcome: VerdictOutcome[];
  /** Verdicts in the log, before any reduction. */
  total: number;
}

/**
 * Indices to keep, per time bucket: the lowest and highest canary value, the first and last change
 * of verdict, and the first Fail, so spikes, dips and verdict marks survive the reduction.
 */
function keptIndices(s: RuleSeries, buckets: number): number[] {
  const n = s.at.length;
  const keep = new Set<number>();
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = -1,
      hi = -1,
      firstChange = -1,
      lastChange = -1,
      fail = -1;
    for (let i = from; i < to; i++) {
      const v = s.canary[i];
      if (v !== null && v !== undefined) {
        if (lo < 0 || v < s.canary[lo]!) lo = i;
        if (hi < 0 || v > s.canary[hi]!) hi = i;
      }
      if (i > 0 && s.outcome[i] !== s.outcome[i - 1]) {
        if (firstChange < 0) firstChange = i;
        lastChange = i;
      }
      if (fail < 0 && s.outcome[i] === 'Fail') fail = i;
    }
    for (const i of [lo < 0 ? from : lo, hi, firstChange, lastChange, fail]) if (i >= 0) keep.add(i);
  }
  return [...keep].sort((a, b) => a - b);
}

/** At most `maxPoints` points: two per bucket, fewer buckets when verdict changes need room. */
export function reduceSeries(s: RuleSeries, maxPoints: number): RuleSeries {
  if (s.at.length <= maxPoints) return s;
  let buckets = Math.max(1, Math.floor(maxPoints / 2));
  let idx = keptIndices(s, buckets);
  while (idx.length > maxPoints && buckets > 1) {
    buckets = Math.max(1, Math.floor((buckets * maxPoints) / idx.length) - 1);
    idx = keptIndices(s, buckets);
  }
  const pick = <T>(xs: T[]) => idx.map((i) => xs[i]!);
  return {
    ...s,
    at: pick(s.at),
    canary: pick(s.canary),
    baseline: pick(s.baseline),
    threshold: pick(s.threshold),
    outcome: pick(s.outcome),
  };
}

/** Adds one evaluation's verdicts to the rules' series (a new rule gets a new series). Returns the longest series' length. */
export function appendVerdicts(rules: RuleSeries[], verdicts: readonly Verdict[]): number {
  let longest = 0;
  for (const v of verdicts) {
    let s = rules.find((r) => r.rule === v.rule);
    if (s === undefined) {
      s = { rule: v.rule, metric: v.metric, at: [], canary: [], baseline: [], threshold: [], outcome: [], total: 0 };
      rules.push(s);
    }
    s.at.push(v.at);
    s.canary.push(v.canary);
    s.baseline.push(v.baseline);
    s.threshold.push(v.threshold);
    s.outcome.push(v.outcome);
    s.total++;
    longest = Math.max(longest, s.at.length);
  }
  return longest;
}

/** The series of a release's `analysis.evaluated` events, one per rule. */
export function seriesOf(events: readonly ServiceEvent[]): RuleSeries[] {
  const rules: RuleSeries[] = [];
  for (const e of events) if (e.type === 'analysis.evaluated') appendVerdicts(rules, e.verdicts);
  return rules;
}
