/**
 * What applications that evaluate flags themselves report (the in-process provider's hook, or any
 * client of POST /api/sdk/evaluations), per environment, flag and variant, since the server
 * started:
 * - evaluations and evaluation errors, which the Flags view shows beside the proxy's own counts;
 * - outcomes: the requests the application served under each variant, those that failed, and
 *   their latency histogram, which is the evidence a contract with `evidence: sdk` is judged on
 *   (flags/flag-guard.ts), as the proxy's per-variant counts are for `evidence: proxy`.
 * Held in memory; both only grow (the guard judges the difference since its mark), and reports
 * are counts, not events. On replicas the outcomes are also shared: every 500 ms this process
 * writes its cumulative counts to the shared store (SharedOutcomes), and the flag's judge and
 * view read the sum over every process, so a report that reached any replica is evidence for the
 * replica that runs the flag's service, including after a failover.
 */
import { merge } from '../core/analysis/histogram.ts';
import type { VariantTally } from '../core/flags/flag-judge.ts';
import type { OutcomeRow, SharedOutcomes } from '../store/types.ts';

export interface TelemetryShare {
  /** This process (a restarted one writes rows of its own, so shared sums never go back). */
  instance: string;
  store: SharedOutcomes;
  onError?: (err: Error) => void;
}

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

const SHARE_EVERY_MS = 500;

export class FlagTelemetry {
  readonly #counts: ByVariant<VariantCounts> = new Map();
  readonly #outcomes: ByVariant<VariantTally> = new Map();
  readonly #shared: TelemetryShare | null;
  /** Outcomes changed since they were last shared: environment, flag, variant. */
  readonly #dirty = new Map<string, [string, string, string]>();
  #timer: NodeJS.Timeout | null = null;
  #failing = false;

  constructor(shared: TelemetryShare | null = null) {
    this.#shared = shared;
  }

  /** Shares the outcomes every 500 ms (replicas only). */
  start(): void {
    if (this.#shared === null) return;
    this.#timer = setInterval(() => void this.share(), SHARE_EVERY_MS);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.share();
  }

  /** Writes the outcomes changed since the last write; kept for the next one when the store fails. */
  async share(): Promise<void> {
    const shared = this.#shared;
    if (shared === null || this.#dirty.size === 0) return;
    const keys = [...this.#dirty];
    this.#dirty.clear();
    const rows: OutcomeRow[] = keys.map(([, [environment, flag, variant]]) => {
      const t = this.#outcomes.get(environment)?.get(flag)?.get(variant)!;
      return { environment, flag, variant, requests: t.requests, errors: t.errors, latency: { ...t.latency } };
    });
    try {
      await shared.store.put(shared.instance, rows);
      this.#failing = false;
    } catch (err) {
      for (const [k, v] of keys) if (!this.#dirty.has(k)) this.#dirty.set(k, v);
      if (!this.#failing) shared.onError?.(err as Error);
      this.#failing = true;
    }
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
    if (this.#shared !== null)
      this.#dirty.set(`${environment}\u0000${flag}\u0000${variant}`, [environment, flag, variant]);
  }

  /** environment → variant → counts, for one flag. */
  of(flag: string): Record<string, Record<string, VariantCounts>> {
    return view(this.#counts, flag);
  }

  /** environment → variant → outcomes, for one flag: this process's, or on replicas every process's. */
  async outcomesOf(flag: string): Promise<Record<string, Record<string, VariantTally>>> {
    const out: Record<string, Record<string, VariantTally>> = {};
    const add = (environment: string, variant: string, t: VariantTally) => {
      const byVariant = (out[environment] ??= {});
      const c = (byVariant[variant] ??= { requests: 0, errors: 0, latency: {} });
      c.requests += t.requests;
      c.errors += t.errors;
      merge(c.latency!, t.latency ?? {});
    };
    if (this.#shared !== null) for (const r of await this.#shared.store.read(flag)) add(r.environment, r.variant, r);
    else
      for (const [environment, byFlag] of this.#outcomes)
        for (const [variant, t] of byFlag.get(flag) ?? []) add(environment, variant, t);
    return out;
  }

  /** One environment's outcomes of one flag, per variant (new objects: the guard keeps them as marks). */
  async outcomes(environment: string, flag: string): Promise<Record<string, VariantTally>> {
    return (await this.outcomesOf(flag))[environment] ?? {};
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
