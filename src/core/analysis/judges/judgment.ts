/**
 * What every judge returns: an outcome, the figures that decided it and a sentence a person can
 * read. Judges are pure functions of counts (or samples) in, judgment out; the engine decides when
 * to call them and what a Fail does.
 */
import type { VerdictOutcome } from '../../types.ts';

export const JUDGES = [
  /** Anytime-valid test on cumulative counts: safe to evaluate after every interval (sequential-rate.ts, sequential-latency.ts). */
  'sequential',
  /** Kayenta-compatible Mann–Whitney classification of two samples (mann-whitney.ts, kayenta.ts). */
  'mannWhitney',
  /** The core's window threshold comparison (../judge.ts). */
  'threshold',
] as const;
export type JudgeName = (typeof JUDGES)[number];

export interface Judgment<Figures> {
  judge: JudgeName;
  outcome: VerdictOutcome;
  figures: Figures;
  reason: string;
}

/** A confidence interval [lower, upper]. */
export type Interval = [number, number];

/** 0.000123 → "1.23e-4", 12345 → "1.23e+4", 2.5 → "2.5": e-values and p-values span many orders. */
export function formatEvidence(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : String(x);
  if (x !== 0 && (Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}
