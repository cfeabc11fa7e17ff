/**
 * Choosing a backend for a request. Non-sticky requests use smooth weighted round-robin (the
 * nginx algorithm): deterministic, so a 1% canary gets exactly 1 request in every 100, evenly
 * spread. Sticky requests hash their key to a point in [0,1) and take the backend whose
 * cumulative weight range holds it; ranges are laid out in table order, so a user whose point
 * lies in the first backend's 10% is still there when it grows to 50%. Cohort routes (a header
 * or cookie value) are checked before either.
 */
import { cookieValue } from './headers.ts';

/** Weights become integer units so that splits are exact and counters never drift. */
const UNITS_PER_PERCENT = 1000;

export class WeightedPicker {
  private readonly units: Int32Array;
  /** Smooth WRR state; kept per key across table changes so re-applying a table keeps the rhythm. */
  readonly current: Float64Array;
  private readonly total: number;

  constructor(weights: readonly number[]) {
    this.units = Int32Array.from(weights, (w) => Math.round(w * UNITS_PER_PERCENT));
    this.current = new Float64Array(weights.length);
    let total = 0;
    for (let i = 0; i < this.units.length; i++) total += this.units[i]!;
    this.total = total;
  }

  /** Index of the next backend, or -1 when every weight is 0. */
  next(): number {
    const n = this.units.length;
    if (this.total === 0) return -1;
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = this.units[i]!;
      if (w === 0) continue;
      const c = this.current[i]! + w;
      this.current[i] = c;
      if (c > bestValue) {
        bestValue = c;
        best = i;
      }
    }
    this.current[best] = bestValue - this.total;
    return best;
  }
}

/** Cumulative weight ranges for sticky routing. */
export class StickyRanges {
  /** Upper bound (exclusive, 0..1) of each backend's range; equal to the previous one when its weight is 0. */
  private readonly bounds: Float64Array;
  private readonly lastPositive: number;

  constructor(weights: readonly number[]) {
    this.bounds = new Float64Array(weights.length);
    let sum = 0;
    for (const w of weights) sum += w;
    let acc = 0;
    let lastPositive = -1;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      acc += w;
      this.bounds[i] = sum > 0 ? acc / sum : 0;
      if (w > 0) lastPositive = i;
    }
    this.lastPositive = lastPositive;
  }

  /** Index of the backend whose range holds `point` (0 ≤ point < 1), or -1 when every weight is 0. */
  pick(point: number): number {
    const n = this.bounds.length;
    for (let i = 0; i < n; i++) {
      if (point < this.bounds[i]!) return i;
    }
    // Rounding can leave the top of [0,1) just past the last bound.
    return this.lastPositive;
  }
}

export { stickyPoint } from '../core/sticky-hash.ts';

/** One cohort route compiled for matching: a lower-cased header name or a cookie name, a value, a backend index. */
interface CompiledRoute {
  header: string | undefined;
  cookie: string | undefined;
  value: string;
  index: number;
}

/**
 * Cohort routes, checked before the weights: the first route (in table order) whose header or
 * cookie equals its value picks the backend. Values match exactly (case-sensitive).
 */
export class CohortRoutes {
  private readonly routes: CompiledRoute[];
  /** Lower-cased header names the routes look at, for the one-pass header scan. */
  readonly headers: ReadonlySet<string>;

  constructor(
    routes: ReadonlyArray<{
      index: number;
      match: { header: string; value: string } | { cookie: string; value: string };
    }>,
  ) {
    this.routes = routes.map(({ index, match }) => ({
      header: 'header' in match ? match.header.toLowerCase() : undefined,
      cookie: 'cookie' in match ? match.cookie : undefined,
      value: match.value,
      index,
    }));
    this.headers = new Set(this.routes.flatMap((r) => (r.header === undefined ? [] : [r.header])));
  }

  get size(): number {
    return this.routes.length;
  }

  /** The backend index of the first matching route, or -1. */
  match(headerValues: ReadonlyMap<string, string> | undefined, cookieHeader: string | undefined): number {
    for (const r of this.routes) {
      const actual =
        r.header !== undefined
          ? headerValues?.get(r.header)
          : cookieHeader === undefined
            ? undefined
            : cookieValue(cookieHeader, r.cookie!);
      if (actual === r.value) return r.index;
    }
    return -1;
  }
}
