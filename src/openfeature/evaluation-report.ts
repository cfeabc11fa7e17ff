/**
 * The provider's hook: counts evaluations and errors per flag and variant, and the outcomes of the
 * requests the application served under each variant (requests, failures, a latency histogram:
 * the evidence of a flag contract with `evidence: sdk`), and reports them to Sluice (POST
 * /api/sdk/evaluations) every `intervalMs`. A report that fails is kept and sent with the next
 * one (counts add up, so memory stays bounded by flags × variants); reporting never slows or
 * fails an evaluation.
 */
import type { EvaluationDetails, FlagValue, Hook, HookContext } from '@openfeature/server-sdk';
import { merge, record } from '../core/analysis/histogram.ts';
import type { HistogramCounts } from '../core/types.ts';

interface Outcomes {
  flag: string;
  variant: string;
  requests: number;
  errors: number;
  latency: HistogramCounts;
}

export class EvaluationReport implements Hook {
  readonly #url: string;
  readonly #token: string;
  readonly #counts = new Map<string, { flag: string; variant: string; count: number; errors: number }>();
  readonly #outcomes = new Map<string, Outcomes>();
  readonly #timer: NodeJS.Timeout;

  constructor(url: string, token: string, intervalMs: number) {
    this.#url = url.replace(/\/$/, '');
    this.#token = token;
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  #add(flag: string, variant: string, count: number, errors: number): void {
    const k = `${flag}\u0000${variant}`;
    const c = this.#counts.get(k) ?? { flag, variant, count: 0, errors: 0 };
    c.count += count;
    c.errors += errors;
    this.#counts.set(k, c);
  }

  #addOutcomes(o: Outcomes): void {
    const k = `${o.flag}\u0000${o.variant}`;
    const c = this.#outcomes.get(k) ?? { flag: o.flag, variant: o.variant, requests: 0, errors: 0, latency: {} };
    c.requests += o.requests;
    c.errors += o.errors;
    merge(c.latency, o.latency);
    this.#outcomes.set(k, c);
  }

  /** One request the application served while `flag` gave it `variant`: whether it failed, and its latency. */
  outcome(flag: string, variant: string, failed: boolean, latencyMs: number | undefined): void {
    const latency: HistogramCounts = {};
    if (latencyMs !== undefined && Number.isFinite(latencyMs) && latencyMs >= 0) record(latency, latencyMs);
    this.#addOutcomes({ flag, variant, requests: 1, errors: failed ? 1 : 0, latency });
  }

  after(hook: HookContext, details: EvaluationDetails<FlagValue>): void {
    this.#add(
      hook.flagKey,
      details.variant ?? (details.errorCode !== undefined ? 'error' : 'default'),
      1,
      details.errorCode !== undefined ? 1 : 0,
    );
  }

  error(hook: HookContext): void {
    this.#add(hook.flagKey, 'error', 1, 1);
  }

  /** Send what was counted since the last report. */
  async flush(): Promise<void> {
    if (this.#counts.size === 0 && this.#outcomes.size === 0) return;
    const evaluations = [...this.#counts.values()];
    const outcomes = [...this.#outcomes.values()];
    this.#counts.clear();
    this.#outcomes.clear();
    try {
      const res = await fetch(`${this.#url}/api/sdk/evaluations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ evaluations, outcomes }),
        signal: AbortSignal.timeout(5000),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(String(res.status));
    } catch {
      for (const e of evaluations) this.#add(e.flag, e.variant, e.count, e.errors);
      for (const o of outcomes) this.#addOutcomes(o);
    }
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    return this.flush();
  }
}
