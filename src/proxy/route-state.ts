/**
 * A route table compiled for the request path: live backends with their endpoint pools and
 * metrics, the weighted picker and the sticky ranges. A table change builds a new RouteState and
 * swaps one reference, so each request sees one table from start to end.
 */
import type { BackendMetrics, MetricsBook } from '../core/analysis/backend-metrics.ts';
import { CohortRoutes, StickyRanges, WeightedPicker } from './picker.ts';
import type { RouteTable } from '../core/route-table.ts';
import type { Endpoint, UpstreamPool } from './upstream-pool.ts';

export class LiveBackend {
  readonly key: string;
  readonly weight: number;
  readonly endpoints: Endpoint[];
  readonly metrics: BackendMetrics;
  private turn = 0;

  constructor(key: string, weight: number, endpoints: Endpoint[], metrics: BackendMetrics) {
    this.key = key;
    this.weight = weight;
    this.endpoints = endpoints;
    this.metrics = metrics;
  }

  /** Round-robin over the endpoints. */
  nextEndpoint(): Endpoint | undefined {
    const n = this.endpoints.length;
    if (n === 0) return undefined;
    const ep = this.endpoints[this.turn];
    this.turn = this.turn + 1 === n ? 0 : this.turn + 1;
    return ep;
  }

  /** An endpoint other than `avoid`, for a retry; leaves the round-robin turn alone. */
  otherEndpoint(avoid: Endpoint): Endpoint | undefined {
    const n = this.endpoints.length;
    for (let k = 0; k < n; k++) {
      const ep = this.endpoints[(this.turn + k) % n]!;
      if (ep !== avoid) return ep;
    }
    return undefined;
  }
}

export class RouteState {
  readonly table: RouteTable;
  readonly backends: LiveBackend[];
  readonly keys: string[];
  /** Lower-cased sticky header name, if the table routes by header. */
  readonly stickyHeader: string | undefined;
  readonly stickyCookie: string | undefined;
  /** Cohort routes, or undefined when the table has none (the request path skips them). */
  readonly cohorts: CohortRoutes | undefined;
  private readonly picker: WeightedPicker;
  private readonly ranges: StickyRanges;

  constructor(table: RouteTable, pool: UpstreamPool, book: MetricsBook, previous: RouteState | null) {
    this.table = table;
    this.backends = table.backends.map(
      (b) =>
        new LiveBackend(
          b.key,
          b.weight,
          b.endpoints.map((url) => pool.get(url)),
          book.of(b.key),
        ),
    );
    this.keys = table.backends.map((b) => b.key);
    this.stickyHeader = table.stickiness?.header?.toLowerCase();
    this.stickyCookie = table.stickiness?.cookie;
    const weights = table.backends.map((b) => b.weight);
    this.picker = new WeightedPicker(weights);
    this.ranges = new StickyRanges(weights);
    const routes = (table.routes ?? []).map((r) => ({ index: this.keys.indexOf(r.key), match: r.match }));
    this.cohorts = routes.length === 0 ? undefined : new CohortRoutes(routes);
    // Keep the round-robin rhythm of keys that stay, so re-applying the same table (which the
    // controller does after every restart) does not starve a 1% backend.
    if (previous !== null) {
      for (let i = 0; i < this.keys.length; i++) {
        const j = previous.keys.indexOf(this.keys[i]!);
        if (j >= 0) this.picker.current[i] = previous.picker.current[j]!;
      }
    }
  }

  pick(): LiveBackend | undefined {
    return this.backends[this.picker.next()];
  }

  /** The backend of the first cohort route the request matches, or undefined. */
  pickCohort(
    headerValues: ReadonlyMap<string, string> | undefined,
    cookieHeader: string | undefined,
  ): LiveBackend | undefined {
    if (this.cohorts === undefined) return undefined;
    return this.backends[this.cohorts.match(headerValues, cookieHeader)];
  }

  pickSticky(point: number): LiveBackend | undefined {
    return this.backends[this.ranges.pick(point)];
  }

  /**
   * For a retry: a backend chosen at random by weight among those with an endpoint other than
   * `failed`, and that endpoint. Random rather than the round-robin, so retries do not shift the
   * split of first attempts (a dead canary still sees exactly its share of them).
   */
  pickOther(failed: Endpoint): { backend: LiveBackend; endpoint: Endpoint } | undefined {
    let total = 0;
    for (const b of this.backends) if (b.weight > 0 && b.otherEndpoint(failed) !== undefined) total += b.weight;
    if (total === 0) return undefined;
    let point = Math.random() * total;
    let chosen: { backend: LiveBackend; endpoint: Endpoint } | undefined;
    for (const backend of this.backends) {
      const endpoint = backend.weight > 0 ? backend.otherEndpoint(failed) : undefined;
      if (endpoint === undefined) continue;
      chosen = { backend, endpoint };
      point -= backend.weight;
      if (point < 0) break;
    }
    return chosen;
  }
}
