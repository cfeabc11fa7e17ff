/**
 * Metrics from the built-in proxy of the service (`<serviceDir>/router/proxy.json` says where its
 * admin API is). A key with no request in the window is `noData`; an unreachable proxy is an
 * `error` measurement for every key. `collect` never throws.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { HistogramCounts } from '../../../core/types.ts';
import type { DriverContext, DriverFactory, Measurement, MetricsProvider } from '../../types.ts';

export const builtinMetricsConfig = z.strictObject({ provider: z.literal('builtin') });
export type BuiltinMetricsConfig = z.output<typeof builtinMetricsConfig>;

const TIMEOUT_MS = 1000;

interface ProxyMetrics {
  now: number;
  startedAt: number;
  backends: Record<string, { requests: number; errors: number; latency: HistogramCounts; total?: { requests: number; errors: number; latency?: HistogramCounts } }>;
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS} ms`;
  return e.cause?.code ?? e.message;
}

async function fetchMetrics(ctx: DriverContext, windowMs: number): Promise<ProxyMetrics> {
  const infoPath = join(ctx.serviceDir, 'router', 'proxy.json');
  let adminUrl: unknown;
  try {
    adminUrl = (JSON.parse(await readFile(infoPath, 'utf8')) as { adminUrl?: unknown }).adminUrl;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? `no built-in proxy is running (${infoPath} does not exist)` : `cannot read ${infoPath}: ${describe(err)}`);
  }
  if (typeof adminUrl !== 'string') throw new Error(`${infoPath} has no adminUrl`);
  const url = `${adminUrl}/metrics?window=${Math.max(1, Math.round(windowMs))}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`the built-in proxy did not answer GET ${url}: ${describe(err)}`);
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
  const stats = { requests: b.requests, errors: b.errors, latency: b.latency, windowMs: covered };
  const t = b.total;
  // Counters since the proxy started (an older proxy has no latency counters: no totals then).
  if (t?.latency === undefined) return { kind: 'stats', stats };
  return { kind: 'stats', stats, totals: { requests: t.requests, errors: t.errors, latency: t.latency, since: body.startedAt } };
}

class BuiltinMetrics implements MetricsProvider {
  private readonly ctx: DriverContext;

  constructor(ctx: DriverContext) {
    this.ctx = ctx;
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

  async close(): Promise<void> {}
}

export const builtinMetrics: DriverFactory<MetricsProvider, BuiltinMetricsConfig> = {
  config: builtinMetricsConfig,
  measuresRouter: 'builtin',
  create: (_config, ctx) => new BuiltinMetrics(ctx),
};
