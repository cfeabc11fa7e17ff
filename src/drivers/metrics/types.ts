/** The metrics contract: figures per revision, and query answers (docs/metrics.md). */
import type { Measurement, QueryResult, WindowStats } from '../../core/types.ts';

export type { Measurement, QueryResult, WindowStats };

export interface MetricsProvider {
  /** Figures per revision key over the last `windowMs`. Missing data is `noData`, never zeros. */
  collect(keys: string[], windowMs: number): Promise<Record<string, Measurement>>;
  /**
   * Providers that answer queries (PromQL, an HTTP JSON endpoint): the value of one query whose
   * placeholders (`${version}`, `${service}`, `${window}`) the engine has already filled in.
   * Errors and timeouts resolve to `{ kind: 'error' }`; an empty answer is `noData`, never 0.
   */
  query?(query: string, windowMs: number): Promise<QueryResult>;
  /** How a version or service name must be escaped inside this provider's queries (PromQL string, URL). */
  escapeQueryValue?(value: string): string;
  /**
   * Providers with live counters: resolves as soon as the data plane has answered `key` with a bad
   * response (status ≥ 400, or none) that this watcher has not yet reported, so the engine judges
   * when the evidence arrives instead of at the next interval. Rejects when `signal` aborts.
   */
  watch?(key: string, signal: AbortSignal): Promise<void>;
  /** The longest one query may take, as configured (`timeout`): the engine waits that long for it. */
  readonly timeoutMs?: number;
  close(): Promise<void>;
}
