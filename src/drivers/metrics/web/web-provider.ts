/**
 * The `web` metrics provider: a query rule names an HTTP endpoint answering JSON and a selector to
 * the number in it. Missing data (an empty array, a null, "NaN") is noData; a selector that does
 * not fit the document (no such field) is an error, so a typo never reads as "no data" forever.
 *
 * Like `prometheus`, it answers queries only: `collect` reports noData for every revision key.
 */
import type { Measurement, QueryResult } from '../../../core/types.ts';
import type { DriverContext } from '../../types.ts';
import type { MetricsProvider } from '../types.ts';
import { describeAnswer, getJson, joinUrl } from '../http-json.ts';
import type { WebMetricsConfig } from './config.ts';
import { formatSteps, select } from './selector.ts';
import { parseWebQuery } from './web-query.ts';

/** A selected value as a number: a number or a numeric string ("0.25"); null and "NaN" are no data. */
export function toResult(value: unknown, where: string): QueryResult {
  if (value === null || value === 'NaN') return { kind: 'noData' };
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n))
    return { kind: 'error', message: `${where} is ${JSON.stringify(value)}, not a finite number` };
  return { kind: 'value', value: n };
}

export class WebProvider implements MetricsProvider {
  readonly #config: WebMetricsConfig;
  readonly #ctx: DriverContext;
  readonly timeoutMs: number;

  constructor(config: WebMetricsConfig, ctx: DriverContext) {
    this.#config = config;
    this.#ctx = ctx;
    this.timeoutMs = config.timeout;
  }

  async collect(keys: string[]): Promise<Record<string, Measurement>> {
    return Object.fromEntries(keys.map((key) => [key, { kind: 'noData' } satisfies Measurement]));
  }

  escapeQueryValue(value: string): string {
    return encodeURIComponent(value);
  }

  async query(query: string): Promise<QueryResult> {
    const result = await this.#query(query);
    if (result.kind === 'error')
      return { kind: 'error', message: `web metrics for service "${this.#ctx.service}": ${result.message}` };
    return result;
  }

  async #query(query: string): Promise<QueryResult> {
    let parsed;
    try {
      parsed = parseWebQuery(query);
    } catch (err) {
      return { kind: 'error', message: (err as Error).message };
    }
    const { address, headers, timeout } = this.#config;
    const url = parsed.target.startsWith('/') ? joinUrl(address, parsed.target) : parsed.target;
    // Credentials go only to the configured endpoint, not to any URL a rule names.
    const sameOrigin = new URL(url).origin === new URL(address).origin;
    const answer = await getJson(url, sameOrigin ? headers : {}, timeout);
    if (!answer.ok) return { kind: 'error', message: answer.message };
    // Status, type and length only: the page's text would reach events every viewer reads.
    if (answer.status >= 400)
      return {
        kind: 'error',
        message: `GET ${url} answered ${describeAnswer(answer.status, answer.contentType, answer.bytes)}`,
      };
    const selected = select(answer.body, parsed.selector);
    const where = `${formatSteps(parsed.selector)} in the answer of GET ${url}`;
    if (selected.kind === 'missing') return { kind: 'noData' };
    if (selected.kind === 'wrong') return { kind: 'error', message: `${where}: ${selected.message}` };
    return toResult(selected.value, where);
  }

  async close(): Promise<void> {}
}
