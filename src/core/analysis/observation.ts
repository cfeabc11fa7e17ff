/**
 * What the judge is given for one evaluation, and the counts it carries: the figures the engine
 * gathers and the evidence the core accumulates between evaluations. Types only.
 */
import type { HistogramCounts, Measurement, QueryResult, RequestTotals, StatusCounts } from '../types.ts';

/** What the judge is given for one evaluation, gathered by the engine for the contract's rules. */
export interface Observation {
  /** Request figures of both revisions over the contract's window. */
  canary: Measurement;
  baseline: Measurement;
  canaryCrashes: number;
  baselineCrashes: number;
  /** Query rules' results by rule name (baseline null for rules with a fixed threshold). */
  queries?: Record<string, { canary: QueryResult; baseline: QueryResult | null }>;
  /** The canary's request figures over other windows (burn-rate rules), by window length in ms. */
  canaryWindows?: Record<number, Measurement>;
  /** External signals received since the release started, by name: their times. */
  signals?: Record<string, number[]>;
  /** Counts of both revisions since the canary started (the sequential judge); set by the core. */
  accumulated?: Accumulated;
  /** Counts at the canary's current share of traffic, and what judging them needs; set by the core. */
  level?: LevelCounts;
  /** What this evaluation added to them; set by the core. */
  increase?: { canary: Counts; baseline: Counts };
  /** Mann–Whitney rules' per-interval points, this evaluation's included; set by the core. */
  points?: Record<string, RulePoints>;
}

export interface Counts {
  requests: number;
  errors: number;
  latency: HistogramCounts;
  /** By status, while every figure added so far told statuses apart (absent: one did not). */
  statuses?: StatusCounts;
}

export interface Accumulation {
  /** The counters at the previous evaluation (null when the provider has none). */
  last: RequestTotals | null;
  sum: Counts;
}

export interface Accumulated {
  canary: Accumulation;
  baseline: Accumulation;
}

export interface LevelCounts {
  canary: Counts;
  baseline: Counts;
  since: number;
  /** How many levels the plan holds: each spends α / levels of the false-rollback budget, so a release spends at most α. */
  levels: number;
  /** The canary's requests per second at this level (null: under a second measured). */
  canaryRps: number | null;
  /** Baseline requests per canary request at this level's weights (null: not known). */
  baselinePerCanary: number | null;
}

export interface RulePoints {
  canary: number[];
  baseline: number[];
}
