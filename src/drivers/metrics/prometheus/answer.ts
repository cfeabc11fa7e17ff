/**
 * Reading an answer of Prometheus's instant-query API (`GET /api/v1/query`) as one number. Pure.
 * An empty vector and NaN (0/0: no requests in the window) are "no data", never 0.
 */
import type { QueryResult } from '../../../core/types.ts';

interface PromAnswer {
  status?: unknown;
  error?: unknown;
  errorType?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

/** A sample's value as Prometheus sends it: a string ("0.25", "NaN", "+Inf"). */
function sampleValue(sample: unknown, query: string): QueryResult {
  const raw = Array.isArray(sample) ? sample[1] : undefined;
  if (typeof raw !== 'string')
    return { kind: 'error', message: `query ${query}: a sample without a value: ${JSON.stringify(sample)}` };
  // NaN is 0/0, no requests in the window: no data. Any other text that is not a number is an error.
  if (raw === 'NaN') return { kind: 'noData' };
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (Number.isNaN(value))
    return {
      kind: 'error',
      message: `query ${query} returned ${JSON.stringify(raw.slice(0, 40))}, which is not a number`,
    };
  if (!Number.isFinite(value))
    return { kind: 'error', message: `query ${query} returned ${raw} (a division by zero?)` };
  return { kind: 'value', value };
}

function labelsOf(series: unknown): string {
  const metric = (series as { metric?: Record<string, string> }).metric ?? {};
  return `{${Object.entries(metric)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

/** `httpStatus` and `body` of one answer; `query` is only named in messages. */
export function readAnswer(httpStatus: number, body: unknown, query: string): QueryResult {
  const answer = (body ?? {}) as PromAnswer;
  if (answer.status === 'error' || httpStatus >= 400) {
    const why =
      typeof answer.error === 'string' ? `${String(answer.errorType ?? 'error')}: ${answer.error}` : 'no error message';
    return { kind: 'error', message: `Prometheus rejected query ${query} (HTTP ${httpStatus}): ${why}` };
  }
  if (answer.status !== 'success' || answer.data === undefined) {
    return {
      kind: 'error',
      message: `query ${query}: the answer is not a Prometheus API response (no status "success" and data)`,
    };
  }
  const { resultType, result } = answer.data;
  if (resultType === 'scalar') return sampleValue(result, query);
  if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return { kind: 'noData' };
    if (result.length > 1) {
      const shown = result.slice(0, 3).map(labelsOf).join(', ');
      return {
        kind: 'error',
        message: `query ${query} returned ${result.length} series (${shown}${result.length > 3 ? ', …' : ''}); aggregate them to one, e.g. with sum(...)`,
      };
    }
    return sampleValue((result[0] as { value?: unknown }).value, query);
  }
  return {
    kind: 'error',
    message: `query ${query} returned a ${String(resultType)}; a rule needs one number (an instant vector of one series, or a scalar)`,
  };
}
