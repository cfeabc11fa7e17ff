/**
 * The flag guard's recent per-variant counts and verdicts, per flag, for the dashboard's
 * per-variant charts: bounded in memory (at most `capacity` samples of at most one per `sampleMs`,
 * by default 180 of one per 10 s: the last 30 minutes), lost on restart. A Fail is always sampled.
 */
import type { FlagVerdict, VariantTally } from '../core/flags/flag-judge.ts';
import type { FlagVariantSeries } from '../views/flag-variants.ts';

export const VARIANT_SERIES_DEFAULTS = { sampleMs: 10_000, capacity: 180 };

interface Sample {
  at: number;
  /** Requests and errors since the sample before. */
  counts: Record<string, VariantTally>;
  verdicts: Record<string, { outcome: 'Pass' | 'Fail' | 'Inconclusive'; reason: string }>;
}

interface Track {
  environment: string;
  offVariant: string;
  samples: Sample[];
  /** The proxy's counts (since it started) at the last sample. */
  last: Record<string, VariantTally>;
}

export class VariantSeries {
  readonly #tracks = new Map<string, Track>();
  readonly #sampleMs: number;
  readonly #capacity: number;

  constructor(o: { sampleMs?: number; capacity?: number } = {}) {
    this.#sampleMs = o.sampleMs ?? VARIANT_SERIES_DEFAULTS.sampleMs;
    this.#capacity = Math.max(1, o.capacity ?? VARIANT_SERIES_DEFAULTS.capacity);
  }

  /**
   * One guard round for a flag: `counts` as the proxy reports them (since it started), the
   * verdicts on the judged window. Kept when `sampleMs` passed since the last sample, or on a Fail.
   */
  record(
    flag: string,
    environment: string,
    offVariant: string,
    at: number,
    counts: Record<string, VariantTally>,
    verdicts: readonly FlagVerdict[],
  ): void {
    let track = this.#tracks.get(flag);
    if (track === undefined || track.environment !== environment) {
      track = { environment, offVariant, samples: [], last: {} };
      this.#tracks.set(flag, track);
    }
    track.offVariant = offVariant;
    const previous = track.samples.at(-1);
    const failed = verdicts.some((v) => v.judgment.outcome === 'Fail');
    if (previous !== undefined && at - previous.at < this.#sampleMs && !failed) return;
    const since: Record<string, VariantTally> = {};
    for (const [variant, c] of Object.entries(counts)) {
      const before = track.last[variant] ?? { requests: 0, errors: 0 };
      // Fewer than before: the proxy started again, and its counts with it.
      const restarted = c.requests < before.requests || c.errors < before.errors;
      since[variant] = restarted ? c : { requests: c.requests - before.requests, errors: c.errors - before.errors };
    }
    track.last = counts;
    track.samples.push({
      at,
      counts: since,
      verdicts: Object.fromEntries(
        verdicts.map((v) => [v.variant, { outcome: v.judgment.outcome, reason: v.judgment.reason }]),
      ),
    });
    if (track.samples.length > this.#capacity) track.samples.splice(0, track.samples.length - this.#capacity);
  }

  /** The flag's samples as columns (null: the guard has not sampled it since the server started). */
  of(flag: string): FlagVariantSeries | null {
    const track = this.#tracks.get(flag);
    if (track === undefined) return null;
    const names = [...new Set(track.samples.flatMap((s) => Object.keys(s.counts)))].sort();
    return {
      flag,
      environment: track.environment,
      offVariant: track.offVariant,
      sampleMs: this.#sampleMs,
      capacity: this.#capacity,
      at: track.samples.map((s) => s.at),
      variants: names.map((variant) => ({
        variant,
        requests: track.samples.map((s) => s.counts[variant]?.requests ?? 0),
        errors: track.samples.map((s) => s.counts[variant]?.errors ?? 0),
        outcome: track.samples.map((s) => s.verdicts[variant]?.outcome ?? null),
        reason: track.samples.map((s) => s.verdicts[variant]?.reason ?? null),
      })),
    };
  }
}
