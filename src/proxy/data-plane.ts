/**
 * What the proxy serves: the current compiled route table, the upstream pools and the metrics.
 * `apply` swaps the table in one assignment; requests already running keep the backend and
 * endpoint they started on.
 */
import { type BackendMetrics, type BackendWindow, MetricsBook } from '../core/analysis/backend-metrics.ts';
import { FaultBook } from './fault-book.ts';
import { RouteState } from './route-state.ts';
import type { RouteTable } from '../core/route-table.ts';
import { UpstreamPool } from './upstream-pool.ts';

export class DataPlane {
  readonly workers = 1;
  private state: RouteState | null = null;
  private readonly pool: UpstreamPool;
  private readonly book = new MetricsBook();
  /** Drills' faults, each with its own TTL (fault-book.ts). */
  readonly faults: FaultBook;

  /** `upstreamTimeoutMs`: an upstream connection idle this long mid-request is given up (504). */
  constructor(upstreamTimeoutMs = 60_000, onFaultHit?: (id: string, now: number) => void) {
    this.pool = new UpstreamPool(upstreamTimeoutMs);
    this.faults = new FaultBook(onFaultHit);
  }

  /** The current routes, for the request path (an arrow so it can be passed around unbound). */
  readonly routes = (): RouteState | null => this.state;

  /** `table` must have passed validateTable. */
  apply(table: RouteTable): void {
    this.pool.sync(new Set(table.backends.flatMap((b) => b.endpoints)));
    this.state = new RouteState(table, this.pool, this.book, this.state);
  }

  table(): RouteTable | null {
    return this.state?.table ?? null;
  }

  /** `keys`: report these too even when idle (a worker gets the primary's table keys). */
  metrics(
    now: number,
    windowMs: number,
    keys: readonly string[] = this.state?.keys ?? [],
  ): Record<string, BackendWindow> {
    return this.book.snapshot(now, windowMs, keys);
  }

  /** One key's live counters (made if the key has none yet: a watcher may come before its traffic). */
  metricsOf(key: string): BackendMetrics {
    return this.book.of(key);
  }

  close(): void {
    this.faults.close();
    this.pool.destroyAll();
  }
}
