/**
 * The flag guard's recent per-variant counts and verdicts, per flag, for the dashboard's
 * per-variant charts: bounded in memory (at most `capacity` samples of at most one per `sampleMs`,
 * by default 180 of one per 10 s: the last 30 minutes). A Fail is always sampled. Kept across
 * restarts by flags/variant-series-file.ts, through `snapshot` and `restore`.
 */
import type { FlagVerdict, VariantTally } from '../core/flags/flag-judge.ts';
import type { FlagVariantSeries } from '../views/flag-variants.ts';

export const VARIANT_SERIES_DEFAULTS = { sampleMs: 10_000, capacity: 180 };

export interface Sample {
  at: number;
  /** Requests and errors since the sample before. */
  counts: Record<string, VariantTally>;
  verdicts: Record<string, { outcome: 'Pass' | 'Fail' | 'Inconclusive'; reason: string }>;
}

export interface Track {
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
  #revision = 0;

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
    this.#revision++;
  }

  /** How far back a sample is kept at most: `capacity` samples of one per `sampleMs`. */
  get windowMs(): number {
    return this.#sampleMs * this.#capacity;
  }

  /** Grows with every sample kept (or restored): what was saved is stale when this moved on. */
  get revision(): number {
    return this.#revision;
  }

  /** Every flag's samples inside the window at `now` (a flag with none is left out), as copies. */
  snapshot(now: number): Record<string, Track> {
    const tracks: Record<string, Track> = {};
    for (const [flag, t] of this.#tracks) {
      const samples = t.samples.filter((s) => s.at >= now - this.windowMs);
      if (samples.length > 0) tracks[flag] = { ...t, samples, last: { ...t.last } };
    }
    return tracks;
  }

  /**
   * Tracks kept before a restart: samples older than the window (before `now - windowMs`) and past
   * `capacity` (the oldest) are dropped, a flag left with none is not restored, and a flag the
   * guard sampled since the start keeps what it has.
   */
  restore(tracks: Record<string, Track>, now: number): void {
    for (const [flag, t] of Object.entries(tracks)) {
      if (this.#tracks.has(flag)) continue;
      const samples = t.samples.filter((s) => s.at >= now - this.windowMs).slice(-this.#capacity);
      if (samples.length === 0) continue;
      this.#tracks.set(flag, { environment: t.environment, offVariant: t.offVariant, samples, last: t.last });
      this.#revision++;
    }
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
