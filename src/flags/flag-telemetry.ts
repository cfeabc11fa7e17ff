/**
 * What applications that evaluate flags themselves report (the in-process provider's hook, or any
 * client of POST /api/sdk/evaluations), per environment, flag and variant, since the server
 * started:
 * - evaluations and evaluation errors, which the Flags view shows beside the proxy's own counts;
 * - outcomes: the requests the application served under each variant, those that failed, and
 *   their latency histogram, which is the evidence a contract with `evidence: sdk` is judged on
 *   (flags/flag-guard.ts), as the proxy's per-variant counts are for `evidence: proxy`.
 * Held in memory; both only grow (the guard judges the difference since its mark), and reports
 * are counts, not events.
 */
import { merge } from '../core/analysis/histogram.ts';
import type { VariantTally } from '../core/flags/flag-judge.ts';

export interface VariantCounts {
  evaluations: number;
  errors: number;
}

type ByVariant<T> = Map<string, Map<string, Map<string, T>>>;

function slot<T>(m: ByVariant<T>, environment: string, flag: string): Map<string, T> {
  const byFlag = m.get(environment) ?? new Map<string, Map<string, T>>();
  m.set(environment, byFlag);
  const byVariant = byFlag.get(flag) ?? new Map<string, T>();
  byFlag.set(flag, byVariant);
  return byVariant;
}

export class FlagTelemetry {
  /** When these counts began (a server started again begins them again). */
  readonly startedAt: number;
  readonly #counts: ByVariant<VariantCounts> = new Map();
  readonly #outcomes: ByVariant<VariantTally> = new Map();

  constructor(startedAt = Date.now()) {
    this.startedAt = startedAt;
  }

  add(environment: string, flag: string, variant: string, evaluations: number, errors: number): void {
    const byVariant = slot(this.#counts, environment, flag);
    const c = byVariant.get(variant) ?? { evaluations: 0, errors: 0 };
    byVariant.set(variant, { evaluations: c.evaluations + evaluations, errors: c.errors + errors });
  }

  addOutcomes(environment: string, flag: string, variant: string, t: VariantTally): void {
    const byVariant = slot(this.#outcomes, environment, flag);
    const c = byVariant.get(variant) ?? { requests: 0, errors: 0, latency: {} };
    c.requests += t.requests;
    c.errors += t.errors;
    merge(c.latency!, t.latency ?? {});
    byVariant.set(variant, c);
  }

  /** environment → variant → counts, for one flag. */
  of(flag: string): Record<string, Record<string, VariantCounts>> {
    return view(this.#counts, flag);
  }

  /** environment → variant → outcomes, for one flag. */
  outcomesOf(flag: string): Record<string, Record<string, VariantTally>> {
    return view(this.#outcomes, flag);
  }

  /** One environment's outcomes of one flag, per variant (copies: the guard keeps them as marks). */
  outcomes(environment: string, flag: string): Record<string, VariantTally> {
    const out: Record<string, VariantTally> = {};
    for (const [variant, t] of this.#outcomes.get(environment)?.get(flag) ?? [])
      out[variant] = { requests: t.requests, errors: t.errors, latency: { ...t.latency } };
    return out;
  }
}

function view<T>(m: ByVariant<T>, flag: string): Record<string, Record<string, T>> {
  const out: Record<string, Record<string, T>> = {};
  for (const [env, byFlag] of m) {
    const v = byFlag.get(flag);
    if (v !== undefined) out[env] = Object.fromEntries(v);
  }
  return out;
}
