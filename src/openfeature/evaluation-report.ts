/**
 * The provider's hook: counts evaluations and errors per flag and variant, and reports them to
 * Sluice (POST /api/sdk/evaluations) every `intervalMs`. A report that fails is kept and sent
 * with the next one; reporting never slows or fails an evaluation.
 */
import type { EvaluationDetails, FlagValue, Hook, HookContext } from '@openfeature/server-sdk';

export class EvaluationReport implements Hook {
  readonly #url: string;
  readonly #token: string;
  readonly #counts = new Map<string, { flag: string; variant: string; count: number; errors: number }>();
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
    if (this.#counts.size === 0) return;
    const evaluations = [...this.#counts.values()];
    this.#counts.clear();
    try {
      const res = await fetch(`${this.#url}/api/sdk/evaluations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ evaluations }),
        signal: AbortSignal.timeout(5000),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(String(res.status));
    } catch {
      for (const e of evaluations) this.#add(e.flag, e.variant, e.count, e.errors);
    }
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    return this.flush();
  }
}
