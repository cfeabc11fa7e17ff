/**
 * Metrics from the built-in proxy of the service (`<serviceDir>/router/proxy.json` says where its
 * admin API is). A key with no request in the window is `noData`; an unreachable proxy is an
 * `error` measurement for every key. `collect` never throws. Figures come by status too, and
 * `watch` long-polls the proxy for a revision's next bad answers (bad-answers.ts).
 */
import { z } from 'zod';
import type { HistogramCounts, StatusCounts } from '../../../core/types.ts';
import type { DriverContext, DriverFactory } from '../../types.ts';
import type { Measurement, MetricsProvider } from '../types.ts';
import { BadAnswerWatch } from './bad-answers.ts';
import { describe, proxyAdmin } from './proxy-admin.ts';

export const builtinMetricsConfig = z.strictObject({ provider: z.literal('builtin') });
export type BuiltinMetricsConfig = z.output<typeof builtinMetricsConfig>;

const TIMEOUT_MS = 1000;

interface Counters {
  requests: number;
  errors: number;
  /** An older proxy has no latency counters in its totals. */
  latency?: HistogramCounts;
  /** An older proxy does not tell statuses apart. */
  statuses?: StatusCounts;
}

interface ProxyMetrics {
  now: number;
  startedAt: number;
  backends: Record<string, Counters & { latency: HistogramCounts; total?: Counters }>;
}

async function fetchMetrics(ctx: DriverContext, windowMs: number): Promise<ProxyMetrics> {
  const admin = await proxyAdmin(ctx);
  const url = `${admin.url}/metrics?window=${Math.max(1, Math.round(windowMs))}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: admin.headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`the built-in proxy did not answer GET ${url}: ${describe(err, TIMEOUT_MS)}`);
  }
  const body = (await res.json().catch(() => null)) as ProxyMetrics | null;
  if (!res.ok || body === null || typeof body.backends !== 'object') {
    throw new Error(`GET ${url} answered HTTP ${res.status} without metrics`);
  }
  return body;
}

function measure(body: ProxyMetrics, key: string, windowMs: number): Measurement {
  const b = body.backends[key];
  if (b === undefined || b.requests === 0) return { kind: 'noData' };
  // A proxy younger than the window has seen only part of it.
  const covered = Math.min(windowMs, Math.max(1, body.now - body.startedAt));
  const stats = {
    requests: b.requests,
    errors: b.errors,
    latency: b.latency,
    windowMs: covered,
    ...(b.statuses && { statuses: b.statuses }),
  };
  const t = b.total;
  // Counters since the proxy started (an older proxy has no latency counters: no totals then).
  if (t?.latency === undefined) return { kind: 'stats', stats };
  const totals = {
    requests: t.requests,
    errors: t.errors,
    latency: t.latency,
    since: body.startedAt,
    ...(t.statuses && { statuses: t.statuses }),
  };
  return { kind: 'stats', stats, totals };
}

class BuiltinMetrics implements MetricsProvider {
  private readonly ctx: DriverContext;
  private readonly badAnswers: BadAnswerWatch;
  /** Aborts the watches still running when the provider is closed. */
  private readonly closing = new AbortController();

  constructor(ctx: DriverContext) {
    this.ctx = ctx;
    this.badAnswers = new BadAnswerWatch(ctx);
  }

  async collect(keys: string[], windowMs: number): Promise<Record<string, Measurement>> {
    try {
      const body = await fetchMetrics(this.ctx, windowMs);
      return Object.fromEntries(keys.map((key) => [key, measure(body, key, windowMs)]));
    } catch (err) {
      const message = `service "${this.ctx.service}": ${(err as Error).message}`;
      return Object.fromEntries(keys.map((key) => [key, { kind: 'error', message } satisfies Measurement]));
    }
  }

  watch(key: string, signal: AbortSignal): Promise<void> {
    return this.badAnswers.watch(key, AbortSignal.any([signal, this.closing.signal]));
  }

  async close(): Promise<void> {
    this.closing.abort(new Error('the metrics provider was closed'));
  }
}

export const builtinMetrics: DriverFactory<MetricsProvider, BuiltinMetricsConfig> = {
  config: builtinMetricsConfig,
  measuresRouter: 'builtin',
  create: (_config, ctx) => new BuiltinMetrics(ctx),
};
