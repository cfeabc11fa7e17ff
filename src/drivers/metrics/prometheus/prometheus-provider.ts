/**
 * The `prometheus` metrics provider: each query rule is one PromQL instant query, evaluated now.
 *
 * It answers queries only: `collect` (the built-in request figures per revision key) reports
 * noData, because a revision key ("3") is not a Prometheus label and request/latency histograms
 * cannot be rebuilt from arbitrary exporters without guessing metric names. Rules on
 * error_rate/latency_* need the builtin provider; with Prometheus, write them as queries.
 */
import type { Measurement, QueryResult } from '../../../core/types.ts';
import type { DriverContext } from '../../types.ts';
import type { MetricsProvider } from '../types.ts';
import { getJson, joinUrl } from '../http-json.ts';
import { escapePromqlString } from '../query-template.ts';
import { readAnswer } from './answer.ts';
import type { PrometheusMetricsConfig } from './config.ts';

export class PrometheusProvider implements MetricsProvider {
  readonly #config: PrometheusMetricsConfig;
  readonly #ctx: DriverContext;
  readonly timeoutMs: number;

  constructor(config: PrometheusMetricsConfig, ctx: DriverContext) {
    this.#config = config;
    this.#ctx = ctx;
    this.timeoutMs = config.timeout;
  }

  async collect(keys: string[]): Promise<Record<string, Measurement>> {
    return Object.fromEntries(keys.map((key) => [key, { kind: 'noData' } satisfies Measurement]));
  }

  escapeQueryValue(value: string): string {
    return escapePromqlString(value);
  }

  async query(query: string): Promise<QueryResult> {
    const { address, headers, timeout } = this.#config;
    // Prometheus's own timeout, a little under ours, so a slow query ends with its message.
    const params = new URLSearchParams({ query, timeout: `${Math.max(1, Math.floor(timeout * 0.9))}ms` });
    const answer = await getJson(`${joinUrl(address, '/api/v1/query')}?${params}`, headers, timeout);
    const result = answer.ok
      ? readAnswer(answer.status, answer.body, query)
      : { kind: 'error' as const, message: answer.message };
    if (result.kind === 'error')
      return { kind: 'error', message: `prometheus metrics for service "${this.#ctx.service}": ${result.message}` };
    return result;
  }

  async close(): Promise<void> {}
}
