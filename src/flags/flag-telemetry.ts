/**
 * Evaluations and errors per variant that applications report (the in-process provider's hook),
 * per environment and flag, since the server started: what the Flags view shows beside the
 * proxy's own per-variant counts. Held in memory; reports are counts, not events.
 */
export interface VariantCounts {
  evaluations: number;
  errors: number;
}

export class FlagTelemetry {
  readonly #counts = new Map<string, Map<string, Map<string, VariantCounts>>>();

  add(environment: string, flag: string, variant: string, evaluations: number, errors: number): void {
    const byFlag = this.#counts.get(environment) ?? new Map<string, Map<string, VariantCounts>>();
    this.#counts.set(environment, byFlag);
    const byVariant = byFlag.get(flag) ?? new Map<string, VariantCounts>();
    byFlag.set(flag, byVariant);
    const c = byVariant.get(variant) ?? { evaluations: 0, errors: 0 };
    byVariant.set(variant, { evaluations: c.evaluations + evaluations, errors: c.errors + errors });
  }

  /** environment → variant → counts, for one flag. */
  of(flag: string): Record<string, Record<string, VariantCounts>> {
    const out: Record<string, Record<string, VariantCounts>> = {};
    for (const [env, byFlag] of this.#counts) {
      const v = byFlag.get(flag);
      if (v !== undefined) out[env] = Object.fromEntries(v);
    }
    return out;
  }
}
