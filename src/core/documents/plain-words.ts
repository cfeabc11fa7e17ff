import { describeCondition } from '../analysis/figures.ts';
import { DEFAULT_ERRORS, type Rule } from '../types.ts';

const seconds = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);

const METRIC_WORDS: Record<string, string> = {
  error_rate: 'error rate',
  success_rate: 'success rate',
  latency_p50: 'median latency',
  latency_p90: 'p90 latency',
  latency_p95: 'p95 latency',
  latency_p99: 'p99 latency',
  latency_mean: 'mean latency',
  request_rate: 'request rate',
  instance_crashes: 'instance crashes',
  query: 'query value',
};

/** A contract rule in plain words: "error_rate: fails when the canary's error rate (5xx, connect) is above baseline + 2.00%". */
export function describeRule(r: Rule): string {
  switch (r.metric) {
    case 'burn_rate':
      return `${r.name}: fails when the canary burns its error budget (objective ${(r.objective * 100).toFixed(2)}%) faster than ${r.windows
        .map((w) => `${w.factor}× over both ${seconds(w.longMs)} and ${seconds(w.shortMs)}`)
        .join(', or ')}`;
    case 'signal':
      return `${r.name}: fails at ${r.count} "${r.signal}" signal(s) within ${seconds(r.withinMs)}`;
    case 'query':
      return `${r.name}: fails when the query's value for the canary is ${describeCondition(r.metric, r.failIf)} (query: ${r.query})`;
    default: {
      const counted = r.errors ?? DEFAULT_ERRORS[r.metric];
      const what = `${METRIC_WORDS[r.metric] ?? r.metric}${counted === undefined ? '' : ` (counting ${counted.join(', ')})`}`;
      return `${r.name}: fails when the canary's ${what} is ${describeCondition(r.metric, r.failIf)}`;
    }
  }
}

/** One changed field of a spec: its path and both values (undefined: absent on that side). */
export interface SpecChange {
  path: string;
  from: unknown;
  to: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields that differ between two specs, by path (objects walked, arrays and scalars compared whole), sorted. */
export function specDiff(from: unknown, to: unknown, path = ''): SpecChange[] {
  if (isRecord(from) && isRecord(to)) {
    return [...new Set([...Object.keys(from), ...Object.keys(to)])]
      .sort()
      .flatMap((k) => specDiff(from[k], to[k], path === '' ? k : `${path}.${k}`));
  }
  return JSON.stringify(from) === JSON.stringify(to) ? [] : [{ path: path || '(spec)', from, to }];
}

/** A value of a spec change as a short text for a table cell. */
export function specValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}
